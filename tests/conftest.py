"""Shared fixtures: real PostgreSQL (throwaway server) and SQLite databases, migrated by Alembic.

- `postgres_server` (session): a PostgreSQL 15 started from the machine's binaries, or TEST_DATABASE_URL.
- `backend` (module, params sqlite/postgresql) and `database_url` (module): a fresh migrated database;
  every test using them runs on both backends.
- `empty_database_url` (function, both backends): a fresh database with no tables.
- `settings`, `app`, `client` (function): the web server on `database_url`, rows wiped before each test.
- `people`: admin, two teachers, two students with bearer headers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tests.support.api import People, create_user_in_db, login  # noqa: E402
from tests.support.db import BACKENDS, new_database_url, new_migrated_database_url, wipe  # noqa: E402
from tests.support.postgres import PostgresServer, start_postgres  # noqa: E402
from web_server.core.config import Settings  # noqa: E402
from web_server.main import create_app  # noqa: E402
from web_server.models.user import Role  # noqa: E402

TEST_SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _server_for(backend: str, request: pytest.FixtureRequest) -> PostgresServer | None:
    return request.getfixturevalue("postgres_server") if backend == "postgresql" else None


@pytest.fixture(scope="module")
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by the tests of one module (rows are wiped by `client`)."""
    server = _server_for(backend, request)
    url = new_migrated_database_url(backend, tmp_path_factory.mktemp("db"), server)
    yield url
    if server is not None:
        server.drop_database(url)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    server = _server_for(backend, request)
    url = new_database_url(backend, tmp_path_factory.mktemp("empty"), server)
    yield url
    if server is not None:
        server.drop_database(url)


def make_test_settings(database_url: str, tmp_path, **overrides) -> Settings:
    """Settings for tests: cheap Argon2 (stored hashes carry their parameters), temporary folders."""
    values = {
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "MEDIA_DIR": tmp_path / "media",
        "FRONTEND_DIST": tmp_path / "no-frontend",
        "CORS_ORIGINS": [],
        # the tests of charts and reports check what teachers see; tests/web/test_modes.py covers every mode
        "EMOTION_ANALYSIS": "individual",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return make_test_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    wipe(app.state.engine)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db_session(app: FastAPI) -> Iterator[Session]:
    with Session(app.state.engine) as session:
        yield session


@pytest.fixture
def people(client: TestClient, app: FastAPI, settings: Settings) -> People:
    ids = {}
    with Session(app.state.engine) as session:
        for name, role in [
            ("admin", Role.admin),
            ("teacher", Role.teacher),
            ("teacher2", Role.teacher),
            ("student", Role.student),
            ("student2", Role.student),
        ]:
            ids[name] = create_user_in_db(session, settings, name, role, full_name=name.title())
    return People(**{name: login(client, name) for name in ids}, ids=ids)
