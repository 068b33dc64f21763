"""The built frontend for the end-to-end tests (the servers: `tests.support.servers`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.servers import ROOT

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
