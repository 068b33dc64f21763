"""The background analysis worker of the web app and the capture runtime of its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from web_server.ai_client import AIClient, AIRejected, AIUnavailable
from web_server.capture.queue import apply_retry_result, claim_due_media, give_up, schedule_retry
from web_server.capture.retention import sweep_media
from web_server.capture.upload import SessionFactory
from web_server.core.config import Settings
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, Modality

log = logging.getLogger(__name__)


class RetryWorker:
    """Background task of the web app: analyses pending media when the AI server answers again."""

    def __init__(self, sessions: SessionFactory, settings: Settings, ai: AIClient, batch: int = 16) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ai = ai
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._last_sweep = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="capture-retry-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if (
                    loop.time() - self._last_sweep >= self.settings.MEDIA_SWEEP_INTERVAL_S
                    or not self._last_sweep
                ):
                    self._last_sweep = loop.time()
                    await asyncio.to_thread(self._with_session, sweep_media, self.settings)
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the worker alive whatever a single round hit (DB restart...)
                log.exception("capture retry worker round failed")
                done = 0
            if done < self.batch:
                await asyncio.sleep(self.settings.RETRY_POLL_S)

    def _with_session(self, fn, *args):
        with self.sessions() as session:
            return fn(session, *args)

    async def run_once(self) -> int:
        """Try every due pending media once; returns how many were tried."""
        lease = 2 * self.settings.AI_TIMEOUT_S * self.batch  # longer than a whole batch of tries
        due = await asyncio.to_thread(self._with_session, claim_due_media, utcnow(), self.batch, lease)
        for media in due:
            await self._retry(media)
        return len(due)

    async def _retry(self, media: CaptureMedia) -> None:
        path = self.settings.MEDIA_DIR / media.path if media.path else None
        try:
            data = await asyncio.to_thread(path.read_bytes) if path else None
        except OSError:
            data = None
        if not data:
            await asyncio.to_thread(
                self._with_session, give_up, self.settings, media.id, "The file is missing."
            )
            return
        try:
            if media.modality == Modality.face:
                result = await self.ai.face(data, path.name, media.content_type, fail_fast=False)
            else:
                result = await self.ai.voice(data, path.name, media.content_type, fail_fast=False)
        except AIRejected as exc:
            await asyncio.to_thread(self._with_session, give_up, self.settings, media.id, exc.message)
        except AIUnavailable as exc:
            await asyncio.to_thread(self._with_session, schedule_retry, self.settings, media.id, exc.message)
        else:
            await asyncio.to_thread(self._with_session, apply_retry_result, self.settings, media.id, result)


@contextlib.asynccontextmanager
async def capture_runtime(state: Any, settings: Settings, engine: Engine) -> AsyncIterator[None]:
    """For the web app's lifespan: the pooled AI client (`state.ai_client`) and the retry worker."""
    ai = AIClient(
        settings.AI_SERVER_URL,
        timeout_s=settings.AI_TIMEOUT_S,
        connect_timeout_s=settings.AI_CONNECT_TIMEOUT_S,
        max_connections=settings.AI_MAX_CONNECTIONS,
        breaker_s=settings.AI_BREAKER_S,
    )
    worker = RetryWorker(lambda: Session(engine), settings, ai)
    state.ai_client = ai
    state.retry_worker = worker
    worker.start()
    try:
        yield
    finally:
        await worker.stop()
        await ai.aclose()
