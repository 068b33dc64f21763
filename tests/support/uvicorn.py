"""A uvicorn server in a subprocess for tests: start it on a free port, wait until it answers, stop it.

Each server runs in its own process group, so stopping it also ends any worker it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_uvicorn(app: str, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start `uvicorn app` on 127.0.0.1:port (environment = ours + `env`), output appended to `log_path`.
    As scripts/start.sh does, uvicorn ignores proxy headers: the app believes them only from
    FORWARDED_ALLOW_IPS."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-proxy-headers"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_ready(proc: subprocess.Popen, url: str, timeout_s: float, name: str, log_path: Path) -> None:
    """Poll `url` until it answers 200; stop the server and raise RuntimeError if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}); see {log_path}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
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
