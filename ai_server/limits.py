"""Request-size guard: bodies over the route's limit get 413 (an ``ErrorBody``) before any parsing (pure ASGI
middleware).

The body is read up to the limit (Content-Length checked first), then replayed to the app, so a large upload
never reaches the multipart parser and a chunked upload cannot bypass the limit.
"""

import json

from ai_server.config import Settings

MULTIPART_OVERHEAD = 64 * 1024


class BodySizeLimit:
    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit_for(self, path: str) -> tuple[int, str]:
        s = self.settings
        if path.startswith("/v1/face/batch"):
            return s.max_batch_bytes, "batch of images"
        if path.startswith("/v1/voice"):
            return s.max_audio_bytes, "audio"
        if path.startswith("/v1/face"):
            return s.max_image_bytes, "image"
        return max(s.max_image_bytes, s.max_audio_bytes), "upload"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope["path"])
        allowed = limit + MULTIPART_OVERHEAD
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > allowed:
            await self._reject(send, what, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > allowed:
                await self._reject(send, what, limit)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False
        body = b"".join(chunks)

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(send, what: str, limit: int) -> None:
        detail = f"The {what} is too large: at most {limit / 1024 / 1024:.0f} MB is accepted."
        payload = json.dumps({"detail": detail, "errors": []}).encode()  # an ErrorBody (ai_server/schemas.py)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
