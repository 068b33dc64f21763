"""Prepare the database before the server starts: `python -m web_server.prestart`.

1. `alembic upgrade head` on DATABASE_URL (migrations are the only way the schema is made);
2. create the first admin (FIRST_ADMIN_USERNAME / FIRST_ADMIN_PASSWORD) if no admin exists yet; with an
   empty FIRST_ADMIN_PASSWORD a random one is generated and printed once.

Both steps run under `prestart_lock`, so that replicas started together (`docker compose up --scale web=3`,
a Kubernetes Deployment's pods, the init container of each) do them one at a time: the first migrates and
creates the admin, the others wait, then find the schema at head and the admin there, and do nothing.
- PostgreSQL: a session-level advisory lock (`pg_advisory_lock`) on a connection of its own, held for both
  steps and released when they end (or when the process dies: the server drops a dead session's locks). It
  needs a session to itself: point DATABASE_URL at PostgreSQL itself, not at a PgBouncer in transaction
  mode.
- SQLite: an exclusive `flock` on `<database file>.prestart.lock` next to the database. SQLite is the embedded
  single-host setup, where the processes that could race share that file system; an in-memory database has
  nothing to share and takes no lock.
"""

from __future__ import annotations

import fcntl
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from web_server.core.config import Settings, get_settings, normalise_database_url
from web_server.core.db import make_engine
from web_server.models.user import Role, User, UserCreate
from web_server.services import users

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
PRESTART_LOCK_KEY = 0x46415345_4C000001  # one fixed 64-bit key ("FASEL" + 1) for every replica's prestart


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@contextmanager
def prestart_lock(database_url: str) -> Iterator[None]:
    """Hold the database's prestart lock for the block (see the module's docstring); waits for it when another
    process holds it."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "postgresql":
        engine = make_engine(database_url, poolclass=NullPool)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                key = {"key": PRESTART_LOCK_KEY}
                if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
                    print("Waiting for another process to finish migrating the database...", flush=True)
                    conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        finally:
            engine.dispose()
        return
    database = url.database
    if (
        url.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".prestart.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file is closed (or the process ends)
        yield


def ensure_first_admin(settings: Settings) -> tuple[str, str | None] | None:
    """Create the first admin when there is no admin. Returns (username, generated password or None)."""
    engine = make_engine(settings.DATABASE_URL)
    try:
        with Session(engine) as session:
            if session.exec(select(User).where(User.role == Role.admin)).first() is not None:
                return None
            generated = None
            password = settings.FIRST_ADMIN_PASSWORD
            if not password:
                password = generated = secrets.token_urlsafe(12)
            try:
                data = UserCreate(
                    username=settings.FIRST_ADMIN_USERNAME,
                    password=password,
                    full_name="Administrator",
                    role=Role.admin,
                )
            except ValidationError as exc:
                problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
                raise SystemExit(
                    f"Cannot create the first admin (FIRST_ADMIN_USERNAME/PASSWORD): {problems}"
                ) from exc
            users.create_user(session, settings, data)
            return data.username, generated
    finally:
        engine.dispose()


def main() -> None:
    settings = get_settings()
    with prestart_lock(settings.DATABASE_URL):
        migrate(settings.DATABASE_URL)
        print("Database migrated to the latest revision.", flush=True)
        created = ensure_first_admin(settings)
    if created is None:
        print("An admin account exists already.", flush=True)
        return
    username, generated = created
    if generated:
        print(
            f"Created the first admin '{username}' with the generated password: {generated}\n"
            "  (shown only this once: log in and change it, or set FIRST_ADMIN_PASSWORD)",
            flush=True,
        )
    else:
        print(
            f"Created the first admin '{username}' with the password from FIRST_ADMIN_PASSWORD.", flush=True
        )


if __name__ == "__main__":
    main()
