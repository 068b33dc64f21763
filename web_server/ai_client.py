"""HTTP client for the AI server (`/v1/face`, `/v1/face/batch`, `/v1/voice`).

One pooled `httpx.AsyncClient` per web process, created in the app's lifespan and closed with it. Every answer
is parsed into the AI server's own response models (`ai_server.schemas`: `FaceAnswer`, `FrameResult`,
`VoiceAnswer`; a light module, no TensorFlow or OpenCV), and its errors (`ErrorBody`) are mapped to two domain
errors:

- `AIRejected`: the AI server refused the media itself (400, 413, 415, 422); carries its status code and
  its message for a person.
- `AIUnavailable`: the AI server is down, slow (timeout), overloaded or failing (5xx, 429, bad JSON, an
  answer that does not fit its model), or cannot serve this kind of media now (404/405: route or model
  missing, 401/403: misconfiguration).
"""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

import httpx
from fastapi import Request
from pydantic import BaseModel, ValidationError

from ai_server.schemas import BatchAnswer, ErrorBody, FaceAnswer, FrameResult, VoiceAnswer

MEDIA_ERRORS = frozenset({400, 413, 415, 422})  # statuses that blame the uploaded media
Answer = TypeVar("Answer", bound=BaseModel)


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
    """The sentence of an error answer (`ErrorBody.detail`), or what there is of it."""
    try:
        return ErrorBody.model_validate(response.json()).detail
    except ValueError:  # not JSON, or not an ErrorBody (pydantic's ValidationError is a ValueError)
        return response.text[:300] or f"AI server answered {response.status_code}"


def _parse(model: type[Answer], body: Any, what: str) -> Answer:
    """`body` as the AI server's `model`; an answer that does not fit counts as the AI server failing."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise AIUnavailable(f"The AI server's {what} answer is malformed ({problems}).") from exc


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
    ) -> Any:
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
    ) -> Any:
        files = [(field, (filename, data, content_type or "application/octet-stream"))]
        return await self._send(path, files, None, params)

    async def _send(self, path: str, files: list, form: dict | None, params: dict | None) -> Any:
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
    ) -> Any:
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
            return response.json()
        except ValueError as exc:
            raise AIUnavailable("The AI server sent an answer that is not JSON.") from exc

    async def face(
        self,
        image: bytes,
        filename: str = "frame.jpg",
        content_type: str = "image/jpeg",
        fail_fast: bool = True,
    ) -> FaceAnswer:
        """POST /v1/face -> its faces (largest first), each with its box and calibrated prediction."""
        params = {"detect": "true"}
        body = await self._post_file("/v1/face", "image", image, filename, content_type, params, fail_fast)
        return _parse(FaceAnswer, body, "face")

    async def face_batch(self, frames: list[tuple[bytes, str, list[int] | None]]) -> list[FrameResult]:
        """POST /v1/face/batch with several frames (bytes, content type, hint box or None) in ONE request ->
        one result per frame, in order: its `faces` and `roi`, or its `error` (status, detail).
        Never fails fast: the workers call it (the breaker is for requests a person waits on)."""
        files = [
            ("images", (f"frame-{i}.jpg", data, content_type or "image/jpeg"))
            for i, (data, content_type, _) in enumerate(frames)
        ]
        form = {"hints": json.dumps([hint for _, _, hint in frames])}
        try:
            body = await self._send("/v1/face/batch", files, form, None)
            answer = _parse(BatchAnswer, body, "batch")
        except AIUnavailable:
            self._down_until = time.monotonic() + self._breaker_s
            raise
        self._down_until = 0.0
        if len(answer.results) != len(frames):
            raise AIUnavailable("The AI server's batch answer does not have one result per frame.")
        return answer.results

    async def voice(
        self,
        audio: bytes,
        filename: str = "answer.webm",
        content_type: str = "audio/webm",
        fail_fast: bool = True,
    ) -> VoiceAnswer:
        """POST /v1/voice -> the recording's segments (each timed and predicted) and its `overall`."""
        body = await self._post_file("/v1/voice", "audio", audio, filename, content_type, None, fail_fast)
        return _parse(VoiceAnswer, body, "voice")


def get_ai_client(request: Request) -> AIClient:
    """FastAPI dependency: the client created in the web app's lifespan."""
    client = getattr(request.app.state, "ai_client", None)
    if client is None:
        raise RuntimeError("AI client not started: the web app's lifespan must create app.state.ai_client")
    return client
