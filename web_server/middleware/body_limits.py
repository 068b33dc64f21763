"""Request bodies are refused from their headers, before anything reads or parses them.

For the upload routes (webcam frames, recordings, CSV import) the bearer token is checked first (signature
and expiry; the route's own dependency then checks the account), so an anonymous upload gets its 401 without
being read. Every request is then held to a size cap: the route's upload limit plus room for the multipart
envelope, or MAX_BODY_BYTES elsewhere. A `Content-Length` above the cap is a 413 at once; a body streamed
without one is counted while it arrives and cut off (413) as soon as it passes the cap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web_server.core.config import Settings
from web_server.core.security import decode_access_token

MULTIPART_ROOM = 64 * 1024  # form fields and part headers around the file
NOT_AUTHENTICATED = "Not authenticated: log in first."
INVALID_SESSION = "Your session is invalid or has expired: log in again."


@dataclass(frozen=True)
class UploadRoute:
    pattern: re.Pattern[str]
    cap: int  # bytes, whole request body
    what: str


def upload_routes(settings: Settings, api_prefix: str) -> list[UploadRoute]:
    def route(path: str, limit: int, what: str) -> UploadRoute:
        return UploadRoute(re.compile(f"^{re.escape(api_prefix)}{path}/?$"), limit + MULTIPART_ROOM, what)

    return [
        route(r"/attempts/[^/]+/frames", settings.MAX_IMAGE_BYTES, "webcam frame"),
        route(r"/attempts/[^/]+/audio", settings.MAX_AUDIO_BYTES, "recording"),
        route(r"/users/import", settings.MAX_CSV_BYTES, "CSV file"),
    ]


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, api_prefix: str) -> None:
        self.app = app
        self.settings = settings
        self.routes = upload_routes(settings, api_prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = next((r for r in self.routes if r.pattern.match(scope.get("path", ""))), None)
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        if upload is not None and scope.get("method") == "POST":
            problem = self._auth_problem(headers.get(b"authorization", b""))
            if problem:
                await reply(send, 401, problem, [(b"www-authenticate", b"Bearer")])
                return
        cap = upload.cap if upload is not None else self.settings.MAX_BODY_BYTES
        what = f"This {upload.what} upload" if upload is not None else "This request"
        too_large = f"{what} is too large: at most {cap} bytes are accepted."
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await reply(send, 400, "The Content-Length header is not a number.")
                return
            if length > cap:
                await reply(send, 413, too_large)
                return
        capped = _Capped(receive, send, cap, too_large)
        await self.app(scope, capped.receive, capped.send)
        await capped.finish()

    def _auth_problem(self, authorization: bytes) -> str | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return NOT_AUTHENTICATED
        if decode_access_token(token.strip(), self.settings) is None:
            return INVALID_SESSION
        return None


class _Capped:
    """`receive` that stops (as a disconnect) past `cap` bytes, and `send` that answers 413 when it did."""

    def __init__(self, receive: Receive, send: Send, cap: int, message: str) -> None:
        self._receive, self._send = receive, send
        self.cap, self.message = cap, message
        self.received = 0
        self.exceeded = self.started = False

    async def receive(self) -> Message:
        if self.exceeded:
            return {"type": "http.disconnect"}
        event = await self._receive()
        if event["type"] == "http.request":
            self.received += len(event.get("body", b""))
            if self.received > self.cap:
                self.exceeded = True
                return {"type": "http.disconnect"}
        return event

    async def send(self, event: Message) -> None:
        if event["type"] == "http.response.start":
            if self.started:
                return
            self.started = True
            if self.exceeded:
                await reply(self._send, 413, self.message)
                return
        elif self.exceeded:
            return  # the app's own answer to the cut-off body is replaced by the 413
        await self._send(event)

    async def finish(self) -> None:
        """The app gave up on the cut-off body without answering: answer 413."""
        if self.exceeded and not self.started:
            self.started = True
            await reply(self._send, 413, self.message)


async def reply(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail, "errors": []}).encode()  # the one error body (models/errors.py)
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start + (headers or [])})
    await send({"type": "http.response.body", "body": body})
