"""`python -m web_server.prestart`: migrates and creates the first admin once (real subprocess)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import make_test_settings
from tests.support.api import API, login
from web_server.main import create_app

REPO = Path(__file__).resolve().parents[2]


def _prestart(database_url: str, tmp_path: Path, expect_rc: int = 0, **env: str) -> str:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": "",
        "ENVIRONMENT": "development",
        **env,
    }
    environment.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "web_server.prestart"],
        cwd=tmp_path,  # no .env there; the package is found through the installed project or PYTHONPATH
        env={**environment, "PYTHONPATH": str(REPO)},
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
