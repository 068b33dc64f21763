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
   handler here turns them into 4xx ``{"detail": ...}``. Blocking work (decoding, DSP) goes to
   ``run_in_threadpool`` / ``ai_server.concurrency.run_blocking``, never directly in ``async def``.
"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ai_server.api import face, health, voice
from ai_server.concurrency import shutdown_pool
from ai_server.config import get_settings
from ai_server.errors import AIError
from ai_server.limits import BodySizeLimit
from ai_server.models.registry import ModelSpec, Registry

ROUTE_MODULES = (health, face, voice)


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
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse({"detail": "Invalid request: " + "; ".join(parts)}, status_code=422)

    return app


app = create_app()
