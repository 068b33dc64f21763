"""Database helpers for tests and benches: migrated databases on both backends, wiping rows between tests, a
teacher and a class of students."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

import web_server.models  # noqa: F401  (all tables on the metadata)
from tests.support.postgres import PostgresServer
from web_server.core.config import Settings
from web_server.core.db import make_engine
from web_server.models.user import Role, UserCreate
from web_server.prestart import migrate
from web_server.services import users

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


def create_class(database_url: str, students: list[str], password: str, teacher: str = "teacher") -> int:
    """A teacher and the named students in a migrated database (cheap Argon2: stored hashes carry their
    parameters); returns the teacher's id."""
    settings = Settings(
        _env_file=None, DATABASE_URL=database_url, PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=1024
    )
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            teacher_id = users.create_user(
                session, settings, UserCreate(username=teacher, password=password, role=Role.teacher)
            ).id
            for name in students:
                users.create_user(
                    session, settings, UserCreate(username=name, password=password, role=Role.student)
                )
    finally:
        engine.dispose()
    return teacher_id
