"""The web server application: `uvicorn web_server.main:app --port 8000`.

`app` is built on first access (module `__getattr__`), so importing `create_app` (tests, tools) neither reads
the process settings nor touches the default database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from web_server.api.deps import API_PREFIX
from web_server.api.main import api_router
from web_server.core.config import Settings, get_settings
from web_server.core.db import make_engine
from web_server.frontend import add_frontend_routes
from web_server.services.capture import capture_runtime
from web_server.services.errors import DomainError
from web_server.services.ratelimit import LoginRateLimiter


async def domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """422 with one `{loc, msg, type}` per field; the submitted values (e.g. passwords) are not echoed."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: the process settings). Tests build one per database."""
    settings = settings or get_settings()
    engine = make_engine(settings.DATABASE_URL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with capture_runtime(app.state, settings, engine):  # AI client + retry queue
            yield
        engine.dispose()

    app = FastAPI(
        title="FASEL web server",
        description="Accounts, tests, attempts, scores and emotion capture for FASEL.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.login_limiter = LoginRateLimiter(settings.LOGIN_MAX_FAILURES, settings.LOGIN_WINDOW_SECONDS)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Total-Count"],  # GET /charts paging (the dev server runs on another origin)
        )
    app.include_router(api_router, prefix=API_PREFIX)
    add_frontend_routes(app, settings.FRONTEND_DIST)
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
