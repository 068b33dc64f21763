"""GET /health: the web server is up and its database answers."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from web_server.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep, response: Response) -> dict[str, str]:
    """200 `{"status": "ok", "database": "ok"}`, or 503 when the database cannot be reached."""
    try:
        session.exec(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "degraded", "database": f"error: {type(exc).__name__}"}
    return {"status": "ok", "database": "ok"}
