"""AI server fixtures: one real uvicorn AI server per test session, with its real models loaded.

- ``ai_server`` (session): the running server (``tests.support.servers.AIServerProcess``: ``url``,
  ``readiness_seen``, the /readyz statuses seen while it started, so the 503 -> 200 transition can be checked
  without a second start).
- ``ai_client`` (session): an ``httpx.Client`` on it; ``post_face`` sends it one frame.

Frames with real FER2013 faces come from ``tests.support.frames``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import AIServerProcess


@pytest.fixture(scope="session")
def ai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AIServerProcess]:
    server = AIServerProcess(tmp_path_factory.mktemp("ai_server") / "server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ai_client(ai_server: AIServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ai_server.url, timeout=60) as client:
        yield client


def post_face(
    client: httpx.Client, data: bytes, detect: bool = True, name: str = "frame.jpg"
) -> httpx.Response:
    params = {"detect": str(detect).lower()}
    return client.post("/v1/face", params=params, files={"image": (name, data, "application/octet-stream")})
