"""HTTP client for the AI server (`/v1/face`, `/v1/face/batch`, `/v1/voice`).

One pooled `httpx.AsyncClient` per web process, created in the app's lifespan and closed with it. Every call
maps the AI server's answers to two domain errors:

- `AIRejected`: the AI server refused the media itself (400, 413, 415, 422); carries its status code and
  its message for a person.
- `AIUnavailable`: the AI server is down, slow (timeout), overloaded or failing (5xx, 429, bad JSON), or
  cannot serve this kind of media now (404/405: route or model missing, 401/403: misconfiguration).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from fastapi import Request

MEDIA_ERRORS = frozenset({400, 413, 415, 422})  # statuses that blame the uploaded media


class AIError(Exception):
    """Base class of the AI client's errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AIUnavailable(AIError):
    """The AI server cannot answer now; the media should be kept and analysed later."""


class AIRejected(AIError):
    """The AI server refused the media (4xx); retrying the same bytes will not help."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"AI server answered {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if detail is not None:
        return str(detail)[:300]
    return f"AI server answered {response.status_code}"


class AIClient:
    """Async client to the AI server with one connection pool and fixed timeouts."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float,
        connect_timeout_s: float = 2.0,
        max_connections: int = 64,
        breaker_s: float = 0.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._breaker_s = breaker_s
        self._down_until = 0.0
        # several AI servers (comma-separated): requests go round-robin; an unavailable one is skipped
        self._urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()] or [""]
        self._next = 0
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return self._urls[0]

    @property
    def urls(self) -> list[str]:
        return list(self._urls)

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def looks_down(self) -> bool:
        """True for `breaker_s` seconds after the AI server was found unavailable."""
        return time.monotonic() < self._down_until

    async def _post_file(
        self,
        path: str,
        field: str,
        data: bytes,
        filename: str,
        content_type: str,
        params: dict | None,
        fail_fast: bool,
    ) -> dict[str, Any]:
        """POST one file. `fail_fast`: while the breaker is open, raise AIUnavailable without calling."""
        if fail_fast and self.looks_down:
            raise AIUnavailable(
                "The AI server was unavailable a moment ago; the media will be analysed later."
            )
        try:
            body = await self._call(path, field, data, filename, content_type, params)
        except AIUnavailable:
            self._down_until = time.monotonic() + self._breaker_s
            raise
        self._down_until = 0.0
        return body

    async def _call(
        self, path: str, field: str, data: bytes, filename: str, content_type: str, params: dict | None
    ) -> dict[str, Any]:
        files = [(field, (filename, data, content_type or "application/octet-stream"))]
        return await self._send(path, files, None, params)

    async def _send(self, path: str, files: list, form: dict | None, params: dict | None) -> dict[str, Any]:
        """POST to the next AI server in turn; an unavailable one is skipped (the others are tried)."""
        start, n = self._next, len(self._urls)
        self._next = (start + 1) % n
        error: AIUnavailable | None = None
        for i in range(n):
            try:
                return await self._send_to(self._urls[(start + i) % n], path, files, form, params)
            except AIUnavailable as exc:
                error = exc
        assert error is not None
        raise error

    async def _send_to(
        self, base: str, path: str, files: list, form: dict | None, params: dict | None
    ) -> dict[str, Any]:
        try:
            response = await self._client.post(base + path, files=files, data=form, params=params)
        except httpx.TimeoutException as exc:
            raise AIUnavailable("The AI server did not answer in time.") from exc
        except httpx.HTTPError as exc:
            raise AIUnavailable(f"The AI server cannot be reached ({type(exc).__name__}).") from exc
        status = response.status_code
        if status in MEDIA_ERRORS:
            raise AIRejected(status, _detail(response))
        if status >= 400:
            raise AIUnavailable(f"The AI server is unavailable ({status}): {_detail(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise AIUnavailable("The AI server sent an answer that is not JSON.") from exc
        if not isinstance(body, dict):
            raise AIUnavailable("The AI server sent an unexpected answer.")
        return body

    async def face(
        self,
        image: bytes,
        filename: str = "frame.jpg",
        content_type: str = "image/jpeg",
        fail_fast: bool = True,
    ) -> dict:
        """POST /v1/face -> {"model", "faces": [{"box", "emotion", "confidence", "scores"}], "elapsed_ms"}."""
        params = {"detect": "true"}
        body = await self._post_file("/v1/face", "image", image, filename, content_type, params, fail_fast)
        if not isinstance(body.get("faces"), list):
            raise AIUnavailable("The AI server's face answer has no 'faces' list.")
        return body

    async def face_batch(self, frames: list[tuple[bytes, str, list[int] | None]]) -> list[dict]:
        """POST /v1/face/batch with several frames (bytes, content type, hint box or None) in ONE request ->
        one result per frame, in order: {"faces": [...], "roi": bool} or {"error": {"status", "detail"}}.
        Never fails fast: the workers call it (the breaker is for requests a person waits on)."""
        files = [
            ("images", (f"frame-{i}.jpg", data, content_type or "image/jpeg"))
            for i, (data, content_type, _) in enumerate(frames)
        ]
        form = {"hints": json.dumps([hint for _, _, hint in frames])}
        try:
            body = await self._send("/v1/face/batch", files, form, None)
        except AIUnavailable:
            self._down_until = time.monotonic() + self._breaker_s
            raise
        self._down_until = 0.0
        results = body.get("results")
        if not isinstance(results, list) or len(results) != len(frames):
            raise AIUnavailable("The AI server's batch answer does not have one result per frame.")
        if not all(
            isinstance(r, dict) and (isinstance(r.get("faces"), list) or r.get("error")) for r in results
        ):
            raise AIUnavailable("The AI server's batch answer has a result without 'faces'.")
        return results

    async def voice(
        self,
        audio: bytes,
        filename: str = "answer.webm",
        content_type: str = "audio/webm",
        fail_fast: bool = True,
    ) -> dict:
        """POST /v1/voice -> {"model", "duration_s", "segments": [...], "overall", "elapsed_ms"}."""
        body = await self._post_file("/v1/voice", "audio", audio, filename, content_type, None, fail_fast)
        if not isinstance(body.get("segments"), list):
            raise AIUnavailable("The AI server's voice answer has no 'segments' list.")
        return body


def get_ai_client(request: Request) -> AIClient:
    """FastAPI dependency: the client created in the web app's lifespan."""
    client = getattr(request.app.state, "ai_client", None)
    if client is None:
        raise RuntimeError("AI client not started: the web app's lifespan must create app.state.ai_client")
    return client
