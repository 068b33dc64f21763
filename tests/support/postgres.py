"""A throwaway PostgreSQL 15 for tests, or an existing server named by TEST_DATABASE_URL.

`start_postgres()` runs initdb + pg_ctl from PG_BIN (default /usr/lib/postgresql/15/bin) in a temporary
folder on a free port. PostgreSQL refuses to run as root, so as root the server runs as the dedicated OS
user `fasel-pg` (created with useradd when missing). `create_database()` gives each caller a fresh database.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.support.servers import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_OS_USER = "fasel-pg"


def _ensure_os_user() -> None:
    if subprocess.run(["id", "-u", PG_OS_USER], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_OS_USER],
            check=True,
            capture_output=True,
        )


@dataclass
class PostgresServer:
    """A server we may create databases on. `admin_url` is a SQLAlchemy URL (postgresql+psycopg://...)."""

    admin_url: str
    folder: Path | None = None  # set when we started the server ourselves
    run_as: list[str] = field(default_factory=list)
    _stopped: bool = False

    def _connect(self) -> psycopg.Connection:
        url = make_url(self.admin_url)
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database or "postgres",
            autocommit=True,
        )

    def database_url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, prefix: str = "fasel_test") -> str:
        """Create an empty database and return its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.folder is None or self._stopped:
            return
        self._stopped = True
        subprocess.run(
            [
                *self.run_as,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """TEST_DATABASE_URL's server when set (it needs CREATEDB), else a fresh local one from PG_BIN."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        from web_server.core.config import normalise_database_url

        return PostgresServer(admin_url=normalise_database_url(external))
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL binaries not found in {PG_BIN}: install postgresql-15, set PG_BIN, "
            "or set TEST_DATABASE_URL to a server where the tests may create databases."
        )
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="fasel-pg-"))
    if os.geteuid() == 0:
        _ensure_os_user()
        shutil.chown(folder, user=PG_OS_USER)
        run_as = ["runuser", "-u", PG_OS_USER, "--"]
    data = folder / "data"
    subprocess.run(
        [
            *run_as,
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    result = subprocess.run(
        [
            *run_as,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-o",
            options,
            "-w",
            "start",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {result.stdout}{result.stderr}{log}")
    server = PostgresServer(
        admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", folder=folder, run_as=run_as
    )
    atexit.register(server.stop)
    return server
