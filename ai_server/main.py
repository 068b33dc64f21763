"""FASEL AI server: ``uvicorn ai_server.main:app --port 8001``.

How a model and its route plug in:
1. Put ``<name>.keras`` and ``<name>.json`` (metadata: name, version, kind, labels, input_size, val_accuracy,
   training_data, licence, plus model-specific keys) under ``ai_server/models/``, and add a Settings field
   ``<name>_model_path`` in ``ai_server/config.py``.
2. Write ``ai_server/api/<route>.py`` with an ``APIRouter`` named ``router`` and a module-level
   ``MODELS = [ModelSpec(name="<name>", kind="face"|"voice", path_setting="<name>_model_path")]``, and add the
   module to ``ROUTE_MODULES`` below.
3. In the route: ``loaded = get_registry(request).get("<name>")`` (503 while loading), then
   ``probs = await loaded.batcher.submit_many(batch)`` (items of ``loaded.batcher.input_shape``; concurrent
   requests are batched into one compiled call). Raise ``ai_server.errors`` exceptions for bad input: the one
   handler here turns them into 4xx ``{"detail": "...", "errors": []}`` (``ErrorBody``). Declare the route's
   ``response_model`` in ``ai_server/schemas.py`` and its error statuses with
   ``responses=error_responses(...)`` (``ai_server/api/deps.py``). Blocking work (decoding, DSP) goes to
   ``run_in_threadpool`` / ``ai_server.concurrency.run_blocking``, never directly in ``async def``.
"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ai_server.api import face, health, voice
from ai_server.concurrency import shutdown_pool
from ai_server.config import get_settings
from ai_server.errors import AIError
from ai_server.limits import BodySizeLimit
from ai_server.models.registry import ModelSpec, Registry
from ai_server.schemas import ErrorBody, ErrorItem

ROUTE_MODULES = (health, face, voice)


def error_response(
    status: int, detail: str, errors: list[ErrorItem] | None = None, headers=None
) -> JSONResponse:
    """The one error body of the AI server (``ErrorBody``)."""
    body = ErrorBody(detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def validation_errors(exc: RequestValidationError) -> tuple[str, list[ErrorItem]]:
    """A readable summary of a request's validation errors, and each one as an ``ErrorItem``."""
    parts, items = [], []
    for err in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        msg, kind = str(err.get("msg", "invalid")), str(err.get("type", "value_error"))
        items.append(ErrorItem(loc=loc, msg=msg, type=kind))
        where = ".".join(str(p) for p in loc if p not in ("body", "query"))
        parts.append(f"{where}: {msg}" if where else msg)
    return "Invalid request: " + "; ".join(parts), items


def create_app() -> FastAPI:
    settings = get_settings()
    specs: list[ModelSpec] = [spec for m in ROUTE_MODULES for spec in getattr(m, "MODELS", [])]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        registry = Registry(settings, specs)
        app.state.registry = registry
        loading = asyncio.create_task(asyncio.to_thread(registry.load_all), name="load-models")
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
            await registry.close()
            shutdown_pool()

    app = FastAPI(title="FASEL AI server", version="1.0.0", lifespan=lifespan)
    app.add_middleware(BodySizeLimit, settings=settings)
    for m in ROUTE_MODULES:
        app.include_router(m.router)

    @app.exception_handler(AIError)
    async def ai_error(_: Request, exc: AIError) -> JSONResponse:
        return error_response(exc.status_code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, items = validation_errors(exc)
        return error_response(422, detail, items)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail).rstrip(".")
        if exc.status_code == 404:
            detail = f"{detail}: {request.url.path} is not a route of the AI server."
        elif exc.status_code == 405:
            allowed = (getattr(exc, "headers", None) or {}).get("Allow", "another method")
            detail = f"{detail}: {request.url.path} does not accept {request.method} (only {allowed})."
        elif exc.status_code == 400:
            detail = f"{detail}: send the upload as multipart/form-data."
        return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        # Starlette raises the exception again after this answer is sent: uvicorn logs it with its traceback
        return error_response(500, f"The AI server failed unexpectedly ({type(exc).__name__}); see its log.")

    return app


app = create_app()
