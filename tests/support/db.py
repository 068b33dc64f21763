"""Database helpers for tests: migrated databases on both backends, wiping rows between tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import SQLModel

import web_server.models  # noqa: F401  (all tables on the metadata)
from tests.support.postgres import PostgresServer
from web_server.prestart import migrate

BACKENDS = ("sqlite", "postgresql")


def new_database_url(backend: str, folder: Path, postgres: PostgresServer | None) -> str:
    """An empty (not migrated) database on `backend`."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'fasel.db'}"
    assert postgres is not None
    return postgres.create_database()


def new_migrated_database_url(backend: str, folder: Path, postgres: PostgresServer | None) -> str:
    url = new_database_url(backend, folder, postgres)
    migrate(url)
    return url


def wipe(engine: Engine) -> None:
    """Delete every row of every table (not the Alembic version), children first."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:  # DELETE is much faster than TRUNCATE on tiny tables
        for table in tables:
            conn.execute(table.delete())
