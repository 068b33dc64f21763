"""How the analysis is doing, as this process sees it: what its workers last hit, the age of the oldest
waiting upload (from the database, so it also sees workers in other processes), and the wake-up call that
an upload gives to the workers of its process."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from web_server.core.config import Settings
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, MediaStatus

FAILURE_MEMORY_S = 60.0  # a worker's failure counts this long unless a success clears it
LAG_CACHE_S = 1.0


class AnalysisHealth:
    def __init__(self) -> None:
        self.failure: str | None = None
        self._failure_at = 0.0
        self._lag: tuple[float, float] = (0.0, -1e9)  # (seconds, measured at)
        self._events: list[asyncio.Event] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- the workers' side ---------------------------------------------------------------------------
    def failed(self, reason: str) -> None:
        self.failure, self._failure_at = reason, time.monotonic()

    def succeeded(self) -> None:
        self.failure = None

    def register(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.append(event)
        self._loop = asyncio.get_running_loop()
        return event

    def wake(self) -> None:
        """Wake the workers of this process (from the event loop or any thread)."""
        if self._loop is None or self._loop.is_closed():
            return
        for event in self._events:
            self._loop.call_soon_threadsafe(event.set)

    # --- the uploads' side ---------------------------------------------------------------------------
    def lag_s(self, session: Session) -> float:
        """Age of the oldest upload waiting for analysis (cached for a second)."""
        value, at = self._lag
        now = time.monotonic()
        if now - at < LAG_CACHE_S:
            return value
        oldest = session.exec(
            select(func.min(CaptureMedia.created_at)).where(CaptureMedia.status == MediaStatus.pending)
        ).one()
        value = 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
        self._lag = (value, now)
        return value

    def delay(self, session: Session, settings: Settings) -> str | None:
        """Why the analysis is behind now (said to the student), or None when it keeps up."""
        if self.failure and time.monotonic() - self._failure_at < FAILURE_MEMORY_S:
            return self.failure
        lag = self.lag_s(session)
        if lag > settings.ANALYSIS_LAG_WARN_S:
            waited = timedelta(seconds=round(lag))
            return f"The analysis is running behind (the oldest upload has waited {waited})."
        return None
