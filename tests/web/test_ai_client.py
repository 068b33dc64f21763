"""The web server's AI client over several AI servers: round-robin, and an unavailable one is skipped."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from web_server.ai_client import AIClient, AIUnavailable


def run(coro):
    """Run a coroutine on a fresh event loop in its own thread (the test session may hold a running loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def client_for(handler) -> AIClient:
    return AIClient(
        "http://ai-a:8001, http://ai-b:8001/", timeout_s=1.0, transport=httpx.MockTransport(handler)
    )


def batch_answer(request: httpx.Request) -> httpx.Response:
    n = request.content.count(b'name="images"')
    return httpx.Response(200, json={"results": [{"faces": [], "roi": False, "error": None}] * n})


def test_requests_alternate_between_ai_servers():
    hosts = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return batch_answer(request)

    ai = client_for(handler)
    assert ai.urls == ["http://ai-a:8001", "http://ai-b:8001"]
    for _ in range(4):
        assert len(run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", None)] * 2))) == 2
    assert hosts == ["ai-a", "ai-b", "ai-a", "ai-b"]


def test_an_ai_server_that_is_down_is_skipped():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "ai-a":
            raise httpx.ConnectError("refused", request=request)
        return batch_answer(request)

    ai = client_for(handler)
    for _ in range(3):  # whichever comes first, the answer comes from ai-b
        assert run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", [1, 2, 3, 4])])) == [
            {"faces": [], "roi": False, "error": None}
        ]

    def all_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"detail": "loading"})

    with pytest.raises(AIUnavailable, match="503"):
        run(client_for(all_down).face_batch([(b"\xff\xd8\xff", "image/jpeg", None)]))
