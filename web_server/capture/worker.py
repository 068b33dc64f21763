"""The analysis workers: they claim queued media in batches, send the frames of a batch to the AI server in
ONE request (`POST /v1/face/batch`, each frame with its attempt's last face box as a hint) and recordings
to `POST /v1/voice` (a few at a time), then store the results of the batch in one transaction
(`queue.apply_outcomes`).

They run inside each web server process by default (`ANALYSIS_WORKERS` loops, started in the app's
lifespan by `capture_runtime`; an upload wakes them at once) and as a separate process with
`python -m web_server.worker` (set `ANALYSIS_WORKERS=0` on the web processes then). Any number of them may
run against one database: claiming skips what another worker holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from web_server.ai_client import AIClient, AIRejected, AIUnavailable
from web_server.capture import metrics
from web_server.capture.health import AnalysisHealth
from web_server.capture.queue import Claimed, Outcome, apply_outcomes, claim, hints_for
from web_server.capture.retention import sweep_media
from web_server.core.config import Settings
from web_server.core.db import make_engine
from web_server.models.emotion import Modality

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
STOP_TRIES, STOP_WAIT_S = 20, 0.5  # how often, and how long each time, `stop` cancels a worker loop


class AnalysisWorker:
    """One worker loop: analyse what is due, sleep until woken (an upload) or RETRY_POLL_S passed."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        ai: AIClient,
        health: AnalysisHealth,
        sweep: bool = True,
        name: str = "analysis-worker",
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ai = ai
        self.health = health
        self.sweep = sweep
        self.name = name
        self._task: asyncio.Task | None = None
        self._event: asyncio.Event | None = None
        self._last_sweep = 0.0

    @property
    def lease_s(self) -> float:
        """How long a claim holds: longer than one AI call with its connection."""
        return 2 * (self.settings.AI_TIMEOUT_S + self.settings.AI_CONNECT_TIMEOUT_S) + 10

    def start(self) -> None:
        self._event = self.health.register()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait until it ended. A cancellation lost on the way (Python 3.11's
        `asyncio.wait_for` returns its result when it completes as it is cancelled) is sent again rather
        than waited on forever, so a shutdown never hangs."""
        task, self._task = self._task, None
        if task is None:
            return
        for _ in range(STOP_TRIES):
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_WAIT_S)
            if task.done():
                return
        log.error("%s did not stop after %d cancellations", self.name, STOP_TRIES)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self.sweep and (
                    not self._last_sweep
                    or loop.time() - self._last_sweep >= self.settings.MEDIA_SWEEP_INTERVAL_S
                ):
                    self._last_sweep = loop.time()
                    await asyncio.to_thread(self._with_session, sweep_media, self.settings)
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the worker alive whatever a round hit (database restart...)
                log.exception("analysis worker round failed")
                metrics.ERRORS.labels(kind=type(exc).__name__).inc()
                done = 0
            if done:
                continue
            assert self._event is not None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.RETRY_POLL_S):
                    await self._event.wait()
            if self._event.is_set():
                self._event.clear()
                await asyncio.sleep(self.settings.ANALYSIS_BATCH_WAIT_S)  # let a batch gather

    def _with_session(self, fn, *args):
        with self.sessions() as session:
            return fn(session, *args)

    async def run_once(self) -> int:
        """One batch of frames and one of recordings; returns how many media were claimed."""
        frames, recordings = await asyncio.gather(self._frames(), self._recordings())
        return frames + recordings

    async def _read(self, media: Claimed) -> bytes | None:
        if media.data:
            return media.data
        if not media.path:
            return None
        try:
            return await asyncio.to_thread((self.settings.MEDIA_DIR / media.path).read_bytes) or None
        except OSError:
            return None

    async def _frames(self) -> int:
        s = self.settings
        claimed = await asyncio.to_thread(
            self._with_session, claim, Modality.face, s.ANALYSIS_BATCH_MAX, self.lease_s
        )
        if not claimed:
            return 0
        hints = await asyncio.to_thread(self._with_session, hints_for, s, {m.attempt_id for m in claimed})
        outcomes: list[Outcome] = []
        items: list[tuple[Claimed, bytes]] = []
        for media in claimed:
            data = await self._read(media)
            if data is None:
                outcomes.append(Outcome(media.id, rejected="The frame is missing."))
            else:
                items.append((media, data))
        if items:
            metrics.BATCH_SIZE.labels(modality="face").observe(len(items))
            try:
                results = await self.ai.face_batch(
                    [(data, m.content_type, hints.get(m.attempt_id)) for m, data in items]
                )
            except (AIUnavailable, AIRejected) as exc:
                self._failed(exc)
                outcomes += [Outcome(m.id, unavailable=exc.message) for m, _ in items]
            else:
                self.health.succeeded()
                for (media, _), result in zip(items, results, strict=True):
                    if result.error is not None:
                        outcomes.append(Outcome(media.id, rejected=result.error.detail))
                    else:
                        outcomes.append(Outcome(media.id, result=result, roi=result.roi))
        await self._apply(Modality.face, claimed, outcomes)
        return len(claimed)

    async def _recordings(self) -> int:
        s = self.settings
        claimed = await asyncio.to_thread(
            self._with_session, claim, Modality.voice, s.ANALYSIS_VOICE_CONCURRENCY, self.lease_s
        )
        if not claimed:
            return 0
        metrics.BATCH_SIZE.labels(modality="voice").observe(len(claimed))
        outcomes = await asyncio.gather(*(self._recording(m) for m in claimed))
        await self._apply(Modality.voice, claimed, list(outcomes))
        return len(claimed)

    async def _recording(self, media: Claimed) -> Outcome:
        data = await self._read(media)
        if data is None:
            return Outcome(media.id, rejected="The recording's file is missing.")
        filename = (media.path or "answer.webm").rsplit("/", 1)[-1]
        try:
            result = await self.ai.voice(data, filename, media.content_type, fail_fast=False)
        except AIRejected as exc:
            return Outcome(media.id, rejected=exc.message)
        except AIUnavailable as exc:
            self._failed(exc)
            return Outcome(media.id, unavailable=exc.message)
        self.health.succeeded()
        return Outcome(media.id, result=result)

    def _failed(self, exc: AIUnavailable | AIRejected) -> None:
        self.health.failed(exc.message)
        metrics.ERRORS.labels(kind="ai_rejected" if isinstance(exc, AIRejected) else "ai_unavailable").inc()

    async def _apply(self, modality: str, claimed: list[Claimed], outcomes: list[Outcome]) -> None:
        applied = await asyncio.to_thread(self._with_session, apply_outcomes, self.settings, outcomes)
        metrics.record_applied(modality, claimed, outcomes, applied)


@contextlib.asynccontextmanager
async def analysis_runtime(
    state: Any, settings: Settings, engine: Engine, workers: int
) -> AsyncIterator[list[AnalysisWorker]]:
    """The pooled AI client (`state.ai_client`), the analysis health (`state.analysis_health`) and
    `workers` worker loops (the first also runs the retention sweep)."""
    ai = AIClient(
        settings.AI_SERVER_URL,
        timeout_s=settings.AI_TIMEOUT_S,
        connect_timeout_s=settings.AI_CONNECT_TIMEOUT_S,
        max_connections=settings.AI_MAX_CONNECTIONS,
        breaker_s=settings.AI_BREAKER_S,
    )
    health = AnalysisHealth()
    pool = [
        AnalysisWorker(
            lambda: Session(engine), settings, ai, health, sweep=i == 0, name=f"analysis-worker-{i}"
        )
        for i in range(workers)
    ]
    state.ai_client = ai
    state.analysis_health = health
    state.analysis_workers = pool
    for worker in pool:
        worker.start()
    try:
        yield pool
    finally:
        for worker in pool:
            await worker.stop()
        await ai.aclose()


@contextlib.asynccontextmanager
async def capture_runtime(state: Any, settings: Settings, engine: Engine) -> AsyncIterator[None]:
    """For the web app's lifespan: the AI client, the analysis health and ANALYSIS_WORKERS worker loops.

    The worker loops have their own small connection pool: when a crowd of uploads holds every connection of
    the requests' pool, the workers still drain the queue (and the queue's bound turns the crowd away)."""
    loops = settings.ANALYSIS_WORKERS
    own = make_engine(settings.DATABASE_URL, **settings.worker_pool_options(loops)) if loops else engine
    try:
        async with analysis_runtime(state, settings, own, loops):
            yield
    finally:
        if own is not engine:
            own.dispose()
