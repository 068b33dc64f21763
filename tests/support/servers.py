"""The servers that tests and benches start, each in a subprocess of its own process group on a free port.

- `spawn` (any command), `spawn_uvicorn` (an ASGI app), `wait_ready` (poll a URL), `stop_process` (SIGTERM,
  then SIGKILL), `kill` (SIGKILL at once: a crash), `free_port`.
- `AIServerProcess`: the real AI server (`ai_server.main:app`, real models). `start()` waits for `/readyz` and
  keeps the statuses it saw (`readiness_seen`); `stop()` is a real outage for the web server; `start()` again
  brings it back on the same port. `running_ai_server`: a given URL, or one started for a block.
- `WebServerProcess`: the real web server (prestart: migrations and the first admin, then uvicorn with
  `workers` processes).

Output goes to log files named in the errors. As scripts/start.sh does, uvicorn ignores proxy headers: the app
believes them only from FORWARDED_ALLOW_IPS.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.data import ROOT

__all__ = ["ROOT", "AIServerProcess", "WebServerProcess", "free_port", "kill", "running_ai_server", "spawn",
           "spawn_uvicorn", "stop_process", "wait_ready"]  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Run `args` in the repository (environment = ours + `env`) in a new process group, output appended to
    `log_path`. A first argument "-m" runs a module of this interpreter."""
    if args[0] == "-m":
        args = [sys.executable, *args]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def spawn_uvicorn(
    app: str, port: int, env: dict[str, str], log_path: Path, workers: int = 1
) -> subprocess.Popen:
    """Start `uvicorn app` on 127.0.0.1:port with `workers` processes."""
    return spawn(
        ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-proxy-headers", "--workers", str(workers)],
        env, log_path,
    )  # fmt: skip


def wait_ready(
    proc: subprocess.Popen,
    url: str,
    timeout_s: float,
    name: str,
    log_path: Path,
    seen: list[int] | None = None,
) -> None:
    """Poll `url` until it answers 200 (statuses appended to `seen`); stop the server and raise RuntimeError
    if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}); see {log_path}")
        try:
            status = httpx.get(url, timeout=2).status_code
        except httpx.HTTPError:
            time.sleep(0.05)
            continue
        if seen is not None:
            seen.append(status)
        if status == 200:
            return
        time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError(f"{name} not ready after {timeout_s} s; see {log_path}")


def stop_process(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group, SIGKILL it if it has not ended within 15 s."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group at once, as a crash would."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@dataclass
class AIServerProcess:
    log_path: Path
    port: int = field(default_factory=free_port)
    ready_timeout_s: float = 180.0
    env: dict[str, str] = field(default_factory=dict)
    readiness_seen: list[int] = field(default_factory=list)  # /readyz statuses seen while starting
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> AIServerProcess:
        if self.running:
            return self
        env = {"TF_CPP_MIN_LOG_LEVEL": "2", **self.env}
        self.readiness_seen.clear()
        self.proc = spawn_uvicorn("ai_server.main:app", self.port, env, self.log_path)
        wait_ready(self.proc, f"{self.url}/readyz", self.ready_timeout_s, "AI server", self.log_path,
                   self.readiness_seen)  # fmt: skip
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


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


@dataclass
class WebServerProcess:
    """The web server with `env` (DATABASE_URL, AI_SERVER_URL...): `python -m web_server.prestart`
    (migrations, first admin) unless `prestart` is False, then uvicorn with `workers` processes."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    prestart: bool = True
    ready_timeout_s: float = 60.0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServerProcess:
        if self.prestart:
            with self.log_path.open("ab") as log:
                subprocess.run(
                    [sys.executable, "-m", "web_server.prestart"], cwd=ROOT, env={**os.environ, **self.env},
                    stdout=log, stderr=subprocess.STDOUT, check=True,
                )  # fmt: skip
        self.proc = spawn_uvicorn("web_server.main:app", self.port, self.env, self.log_path, self.workers)
        wait_ready(self.proc, f"{self.url}/api/v1/health", self.ready_timeout_s, "web server", self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
