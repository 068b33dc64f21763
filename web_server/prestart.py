"""Prepare the database before the server starts: `python -m web_server.prestart`.

1. `alembic upgrade head` on DATABASE_URL (migrations are the only way the schema is made);
2. create the first admin (FIRST_ADMIN_USERNAME / FIRST_ADMIN_PASSWORD) if no admin exists yet; with an
   empty FIRST_ADMIN_PASSWORD a random one is generated and printed once.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlmodel import Session, select

from web_server.core.config import Settings, get_settings
from web_server.core.db import make_engine
from web_server.models.user import Role, User, UserCreate
from web_server.services import users

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


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
