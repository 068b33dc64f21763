"""Capture tests: the real AI server (uvicorn subprocess, real models), the web server on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import make_test_settings
from tests.support.servers import AIServerProcess, free_port
from web_server.core.config import Settings

FAST_RETRY = {
    "AI_TIMEOUT_S": 60.0,  # first calls compile the models on 2 shared cores
    "AI_BREAKER_S": 0.0,
    "RETRY_BACKOFF_S": 0.2,
    "RETRY_BACKOFF_MAX_S": 1.0,
    "RETRY_POLL_S": 0.1,
    "RETRY_MAX_ATTEMPTS": 1000,
    "MEDIA_SWEEP_INTERVAL_S": 0.5,
    "FACE_HINT_REFRESH": 1,  # every frame searched whole, exact face counts (test_pipeline.py: hints)
}


@pytest.fixture(scope="session")
def ai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AIServerProcess]:
    server = AIServerProcess(tmp_path_factory.mktemp("ai-server") / "ai_server.log").start()
    yield server
    server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path, ai_server: AIServerProcess) -> Settings:
    ai_server.start()  # a test may have stopped it
    return make_test_settings(database_url, tmp_path, AI_SERVER_URL=ai_server.url, **FAST_RETRY)


@pytest.fixture
def dead_ai_url() -> str:
    """A port with nothing listening: the AI server is down."""
    return f"http://127.0.0.1:{free_port()}"
