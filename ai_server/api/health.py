"""Liveness, readiness and the model list."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ai_server.api.deps import get_registry

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 while the process lives."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """503 until every model is loaded, then 200."""
    registry = get_registry(request)
    if registry.ready:
        return JSONResponse(
            {"status": "ready", "models": sorted(registry.models), "missing": registry.missing}
        )
    detail = "Models are still loading."
    if registry.error is not None:
        detail = f"Model loading failed: {registry.error}"
    return JSONResponse({"status": "loading", "detail": detail}, status_code=503)


@router.get("/v1/models")
async def models(request: Request) -> list[dict]:
    """Each loaded model: name, version, kind, labels, input_size, val_accuracy, training_data, licence."""
    return get_registry(request).infos()


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text format: per-stage time per frame, requests, batch sizes, face searches, errors."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
