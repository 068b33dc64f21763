"""GET /health: the web server is up and its database answers."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from web_server.api.deps import SessionDep
from web_server.services.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


@router.get("/health")
def health(session: SessionDep) -> Health:
    """200 `{"status": "ok", "database": "ok"}`; 503 (the error body) when the database cannot be reached."""
    try:
        session.exec(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        raise ServiceUnavailable(
            f"The database cannot be reached ({type(exc).__name__}).", headers={"Retry-After": "5"}
        ) from exc
    return Health(status="ok", database="ok")
