"""Liveness, readiness and the model list."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ai_server.api.deps import error_responses, get_registry
from ai_server.schemas import Health, ModelInfo, NotReadyBody, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses=error_responses(500))
async def healthz() -> Health:
    """200 while the process lives."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={
        503: {"model": NotReadyBody, "description": "The models are still loading, or loading failed."},
        **error_responses(500),
    },
)
async def readyz(request: Request) -> Ready | JSONResponse:
    """503 until every model is loaded, then 200."""
    registry = get_registry(request)
    if registry.ready:
        return Ready(status="ready", models=sorted(registry.models), missing=registry.missing)
    detail = "Models are still loading."
    if registry.error is not None:
        detail = f"Model loading failed: {registry.error}"
    body = NotReadyBody(status="loading", detail=detail, errors=[])
    return JSONResponse(body.model_dump(), status_code=503)


@router.get("/v1/models", response_model=list[ModelInfo], responses=error_responses(500))
async def models(request: Request) -> list[ModelInfo]:
    """Each loaded model: name, version, kind, labels, input_size, val_accuracy, training_data, licence,
    temperature, uncertain_below ([] while the models load)."""
    return [ModelInfo.model_validate(info) for info in get_registry(request).infos()]


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text format: per-stage time per frame, requests, batch sizes, face searches, errors."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
