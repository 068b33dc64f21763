"""The web server application: `uvicorn web_server.main:app --port 8000`.

`app` is built on first access (module `__getattr__`), so importing `create_app` (tests, tools) neither reads
the process settings nor touches the default database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from web_server.api.deps import API_PREFIX, check_path_ids
from web_server.api.main import api_router
from web_server.capture.metrics import metrics_endpoint
from web_server.capture.worker import capture_runtime
from web_server.core import secret_key
from web_server.core.config import Settings, get_settings
from web_server.core.db import make_engine
from web_server.frontend import add_frontend_routes
from web_server.middleware.body_limits import BodyLimitMiddleware
from web_server.middleware.headers import SecurityHeadersMiddleware
from web_server.services.errors import DomainError

DB_UNAVAILABLE = (
    "The server cannot reach its database right now, so this was not saved. "
    "Nothing is lost on your screen: try again in a moment."
)


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


OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


async def database_unavailable_handler(_: Request, exc: Exception) -> JSONResponse:
    """503 with a readable message when the database is down or unreachable (not for bad data)."""
    outage = isinstance(exc, OUTAGES) or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)
    if not outage:  # bad data, a bug: not an outage
        raise exc
    return JSONResponse({"detail": DB_UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"})


DB_ERRORS = (sa_exc.DBAPIError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


def with_signing_key(settings: Settings) -> Settings:
    """An empty SECRET_KEY means: the key generated on first start, kept in DATA_DIR (created if missing)."""
    if settings.SECRET_KEY:
        return settings
    key = secret_key.load_or_create(settings.secret_key_file)
    return settings.model_copy(update={"SECRET_KEY": key})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: the process settings). Tests build one per database."""
    settings = with_signing_key(settings or get_settings())
    engine = make_engine(settings.DATABASE_URL, **settings.pool_options())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with capture_runtime(app.state, settings, engine):  # AI client + analysis workers
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
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for outage in DB_ERRORS:
        app.add_exception_handler(outage, database_unavailable_handler)
    app.add_middleware(BodyLimitMiddleware, settings=settings, api_prefix=API_PREFIX)  # innermost
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Total-Count"],  # GET /charts paging (the dev server runs on another origin)
        )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.FORWARDED_ALLOW_IPS:  # outermost: the client address is the proxy's X-Forwarded-For
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.FORWARDED_ALLOW_IPS)
    app.include_router(api_router, prefix=API_PREFIX, dependencies=[Depends(check_path_ids)])
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    add_frontend_routes(app, settings.FRONTEND_DIST)
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
