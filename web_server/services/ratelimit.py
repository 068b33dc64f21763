"""In-memory limiter for failed logins (per username + client address, sliding window)."""

from __future__ import annotations

import math
import time
from collections import deque
from threading import Lock


class LoginRateLimiter:
    def __init__(self, max_failures: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def retry_after(self, key: tuple[str, str]) -> int | None:
        """Seconds until the next try is allowed, or None when not limited."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return None
            return max(1, math.ceil(times[0] + self.window - now))

    def record_failure(self, key: tuple[str, str]) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._prune(now)
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def reset(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.max_keys:  # still full: forget the oldest entries
            del self._failures[next(iter(self._failures))]
