"""The real web server (`web_server.main:app`) in a uvicorn subprocess, and the built frontend."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.uvicorn import ROOT, free_port, spawn_uvicorn, stop_process, wait_ready

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

    def start(self, timeout_s: float = 60.0) -> WebServerProcess:
        with self.log_path.open("ab") as log:
            subprocess.run(
                [sys.executable, "-m", "web_server.prestart"],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, check=True,
            )  # fmt: skip
        self._proc = spawn_uvicorn("web_server.main:app", self.port, self.env, self.log_path)
        wait_ready(self._proc, f"{self.url}/api/v1/health", timeout_s, "web server", self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self._proc)
        self._proc = None
