"""`python -m web_server.prestart`: migrates and creates the first admin once (real subprocess), one process
at a time when several start together (on both backends)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import make_test_settings
from tests.support.api import API, login
from web_server.core.db import make_engine
from web_server.main import create_app
from web_server.prestart import alembic_config, prestart_lock

REPO = Path(__file__).resolve().parents[2]


def _prestart_env(database_url: str, **env: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": "",
        "ENVIRONMENT": "development",
        **env,
        "PYTHONPATH": str(REPO),  # run from a folder without .env: the package is found through PYTHONPATH
    }
    environment.pop("SECRET_KEY", None)
    return environment


def _prestart(database_url: str, tmp_path: Path, expect_rc: int = 0, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "web_server.prestart"],
        cwd=tmp_path,
        env=_prestart_env(database_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == expect_rc, result.stderr
    return result.stdout + result.stderr


def test_prestart_migrates_and_creates_the_admin_with_a_generated_password(empty_database_url, tmp_path):
    output = _prestart(empty_database_url, tmp_path)
    match = re.search(r"generated password: (\S+)", output)
    assert match, output
    password = match.group(1)
    assert len(password) >= 12

    again = _prestart(empty_database_url, tmp_path)
    assert "exists already" in again and password not in again  # printed only once

    with TestClient(create_app(make_test_settings(empty_database_url, tmp_path))) as client:
        headers = login(client, "admin", password)
        me = client.get(f"{API}/users/me", headers=headers).json()
        assert me["role"] == "admin" and me["is_active"] is True


def test_prestart_uses_first_admin_settings(empty_database_url, tmp_path):
    output = _prestart(
        empty_database_url, tmp_path, FIRST_ADMIN_USERNAME="Head", FIRST_ADMIN_PASSWORD="head-pass-123"
    )
    assert "FIRST_ADMIN_PASSWORD" in output and "head-pass-123" not in output
    with TestClient(create_app(make_test_settings(empty_database_url, tmp_path))) as client:
        login(client, "head", "head-pass-123")


def test_prestart_explains_a_bad_first_admin_password(empty_database_url, tmp_path):
    output = _prestart(empty_database_url, tmp_path, expect_rc=1, FIRST_ADMIN_PASSWORD="short")
    assert "Cannot create the first admin" in output and "at least 8 characters" in output
    assert "Traceback" not in output


def _launch(database_url: str, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "web_server.prestart"],
        cwd=tmp_path,
        env=_prestart_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_prestarts_started_together_migrate_once_and_create_one_admin(empty_database_url, tmp_path):
    """Three replicas start at once on an empty database (compose --scale web=3): every prestart succeeds, the
    schema is at head, and exactly one admin was created (one generated password printed)."""
    procs = [_launch(empty_database_url, tmp_path) for _ in range(3)]
    outputs = [proc.communicate(timeout=180)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], "\n---\n".join(outputs)
    assert sum("generated password" in out for out in outputs) == 1, outputs
    assert sum("exists already" in out for out in outputs) == 2, outputs

    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            admins = conn.execute(text("SELECT count(*) FROM users WHERE role = 'admin'")).scalar_one()
    finally:
        engine.dispose()
    assert admins == 1


def test_the_prestart_lock_is_held_by_one_process_at_a_time(empty_database_url):
    """While one process holds the prestart lock, another one's prestart waits for it."""
    script = (
        "import sys, time\n"
        "from web_server.prestart import prestart_lock\n"
        "with prestart_lock(sys.argv[1]):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(3)\n"
        "    print('releasing', flush=True)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, empty_database_url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        with prestart_lock(empty_database_url):
            waited = time.monotonic() - t0
            assert holder.stdout.readline().strip() == "releasing"  # printed before it let go
    finally:
        holder.wait(timeout=30)
    assert waited > 1.5, waited
