"""Shared route dependencies."""

from fastapi import Request

from ai_server.models.registry import Registry


def get_registry(request: Request) -> Registry:
    return request.app.state.registry
