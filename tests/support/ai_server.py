"""The real AI server (`ai_server.main:app`) in a uvicorn subprocess on a free port, for end-to-end tests.

`AIServerProcess.start()` waits for `/readyz` (models loaded); `stop()` kills it (a real outage for the web
server); `start()` again brings it back on the same port. Its output goes to a log file for failures.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.uvicorn import free_port, spawn_uvicorn, stop_process, wait_ready

__all__ = ["AIServerProcess", "free_port", "running_ai_server"]


@dataclass
class AIServerProcess:
    log_path: Path
    port: int = field(default_factory=free_port)
    ready_timeout_s: float = 180.0
    env: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> AIServerProcess:
        if self.running:
            return self
        env = {"TF_CPP_MIN_LOG_LEVEL": "2", **self.env}
        self._proc = spawn_uvicorn("ai_server.main:app", self.port, env, self.log_path)
        wait_ready(self._proc, f"{self.url}/readyz", self.ready_timeout_s, "AI server", self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self._proc)
        self._proc = None


@contextmanager
def running_ai_server(url: str | None, log_path: Path) -> Iterator[str]:
    """Yield ``url`` if given (a server already running), else start one for the block and stop it after."""
    if url is not None:
        yield url
        return
    server = AIServerProcess(log_path).start()
    try:
        yield server.url
    finally:
        server.stop()
