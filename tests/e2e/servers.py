"""The real web server (`web_server.main:app`) in a uvicorn subprocess, and the built frontend."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.ai_server import free_port

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for base in paths:
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def ensure_frontend_built() -> Path:
    """Build `frontend/dist` with npm when missing or older than the sources; returns the dist folder."""
    index = DIST / "index.html"
    sources = [
        FRONTEND / "src",
        FRONTEND / "index.html",
        FRONTEND / "package-lock.json",
        FRONTEND / "vite.config.js",
    ]
    if index.is_file() and index.stat().st_mtime >= _newest_mtime(sources):
        return DIST
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the frontend (Node 20+); or build frontend/dist first")
    if not (FRONTEND / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    return DIST


@dataclass
class WebServerProcess:
    """Migrates the database, creates the first admin (prestart), then serves API + frontend."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    _proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def start(self, timeout_s: float = 60.0) -> WebServerProcess:
        with self.log_path.open("ab") as log:
            subprocess.run(
                [sys.executable, "-m", "web_server.prestart"],
                cwd=ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT, check=True,
            )  # fmt: skip
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "web_server.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"web server exited ({self._proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"web server not ready after {timeout_s} s; see {self.log_path}")

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)
        self._proc = None
