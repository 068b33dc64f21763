"""The web server application: `uvicorn web_server.main:app --port 8000`.

`app` is built on first access (module `__getattr__`), so importing `create_app` (tests, tools) neither reads
the process settings nor touches the default database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from web_server.api import error_handlers, responses
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
    error_handlers.install(app)  # every 4xx and 5xx: the one error body (models/errors.py)
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
    app.include_router(
        api_router, prefix=API_PREFIX, dependencies=[Depends(check_path_ids)], responses=responses.COMMON
    )
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    add_frontend_routes(app, settings.FRONTEND_DIST)
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
