"""Shared route dependencies and the documented error answers of the routes."""

from typing import Any

from fastapi import Request

from ai_server.models.registry import Registry
from ai_server.schemas import ErrorBody

ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request body cannot be parsed (not multipart form data)."},
    413: {"model": ErrorBody, "description": "The upload is over the size, pixel, duration or count limit."},
    415: {
        "model": ErrorBody,
        "description": "The upload is not a supported or not an intact image/recording.",
    },
    422: {"model": ErrorBody, "description": "Invalid request: a field is missing or malformed, or empty."},
    500: {"model": ErrorBody, "description": "Unexpected failure of the AI server (logged)."},
    503: {"model": ErrorBody, "description": "The models are still loading, or this model is not installed."},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer these error statuses (every body is an ``ErrorBody``)."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


def get_registry(request: Request) -> Registry:
    return request.app.state.registry
