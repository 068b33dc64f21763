"""One handler per kind of failure, each answering with the one error body (`models/errors.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from web_server.models.errors import ErrorBody, FieldError
from web_server.services.errors import DomainError

DB_UNAVAILABLE = (
    "The server cannot reach its database right now, so this was not saved. "
    "Nothing is lost on your screen: try again in a moment."
)
SERVER_ERROR = "Something went wrong on the server: this was not done. Try again, or tell an administrator."
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
DB_ERRORS = (sa_exc.DBAPIError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


def error_response(
    status_code: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=detail, errors=list(errors))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _field(loc: Sequence[Any]) -> str:
    """`["body", "questions", 0, "prompt"]` -> `questions.0.prompt`; `["query", "limit"]` -> `limit`."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "request"


def _readable(msg: str) -> str:
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validation_summary(errors: Sequence[FieldError]) -> str:
    """`Please check these fields: password: String should have at least 8 characters`."""
    parts = [
        "the body is not valid JSON" if e.type == "json_invalid" else f"{_field(e.loc)}: {_readable(e.msg)}"
        for e in errors
    ]
    return "Please check these fields: " + "; ".join(parts) if parts else "The request is not valid."


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """422 with one `{loc, msg, type}` per field; the submitted values (e.g. passwords) are not echoed."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            loc=list(e.get("loc", ())), msg=_readable(str(e.get("msg", ""))), type=str(e.get("type", ""))
        )
        for e in exc.errors()
    ]
    return error_response(422, validation_summary(errors), errors)


async def domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


READABLE = {
    "There was an error parsing the body": "The request body cannot be read: send UTF-8 JSON, or the form "
    "this route expects.",
}
"""FastAPI's own messages, in words a person understands."""


async def http_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own errors (unknown path 404, 405, an unreadable body 400 and the like)."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    detail = READABLE.get(detail, detail)
    return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def database_unavailable_handler(_: Request, exc: Exception) -> JSONResponse:
    """503 with a readable message when the database is down or unreachable (not for bad data: 500)."""
    outage = isinstance(exc, OUTAGES) or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)
    if not outage:  # bad data, a bug: not an outage (answered by `server_error_handler`)
        raise exc
    return error_response(503, DB_UNAVAILABLE, headers={"Retry-After": "5"})


async def server_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """500 for a bug (Starlette logs it and raises it on); the body says nothing about the code."""
    return error_response(500, SERVER_ERROR)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    for outage in DB_ERRORS:
        app.add_exception_handler(outage, database_unavailable_handler)
    app.add_exception_handler(Exception, server_error_handler)
