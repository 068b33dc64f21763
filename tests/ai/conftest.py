"""AI server fixtures: one real uvicorn AI server per test session, with its real models loaded.

- ``ai_server`` (session): the running server (``url``, ``readiness_seen``: the /readyz statuses seen while
  it started, so the 503 -> 200 transition can be checked without a second start).
- ``ai_client`` (session): an ``httpx.Client`` on it.
- helpers to compose real FER2013 faces from ``/work/shared/data/fer2013/val`` into webcam-sized frames.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FER_VAL = ROOT.parent / "shared" / "data" / "fer2013" / "val"
LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@dataclass
class AIServer:
    url: str
    process: subprocess.Popen
    readiness_seen: list[int] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AIServer]:
    port = _free_port()
    log = tmp_path_factory.mktemp("ai_server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "ai_server.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
    server = AIServer(f"http://127.0.0.1:{port}", proc)
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"AI server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"AI server not ready in 180 s:\n{log.read_text()[-3000:]}")
            try:
                status = httpx.get(f"{server.url}/readyz", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            server.readiness_seen.append(status)
            if status == 200:
                break
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def ai_client(ai_server: AIServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ai_server.url, timeout=60) as client:
        yield client


def val_faces(label: str, n: int, start: int = 0) -> list[Path]:
    """The first ``n`` (after ``start``) FER2013 val images of ``label``, in a fixed order."""
    return sorted((FER_VAL / label).glob("*.jpg"))[start : start + n]


def background(width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    """A webcam-like BGR background without faces: a smooth gradient with some noise and a few shapes."""
    rng = np.random.default_rng(seed)
    gx = np.linspace(60, 190, width, dtype=np.float32)[None, :]
    gy = np.linspace(0, 40, height, dtype=np.float32)[:, None]
    base = (gx + gy)[..., None] * np.array([0.9, 1.0, 1.1], np.float32)
    frame = np.clip(base + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    cv2.rectangle(frame, (20, 300), (200, 470), (40, 60, 90), -1)
    cv2.line(frame, (0, 280), (640, 250), (200, 200, 200), 3)
    return frame


def compose(faces: list[tuple[Path, int, int, int]], seed: int = 0) -> tuple[np.ndarray, list[tuple]]:
    """Paste FER faces ``(path, x, y, size)`` (bicubic upscaled) onto a 640x480 background."""
    frame = background(seed=seed)
    boxes = []
    for path, x, y, size in faces:
        face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        face = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
        frame[y : y + size, x : x + size] = face[..., None]
        boxes.append((x, y, size, size))
    return frame, boxes


def encode(frame: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, buf = cv2.imencode(ext, frame)
    assert ok
    return buf.tobytes()


def post_face(
    client: httpx.Client, data: bytes, detect: bool = True, name: str = "frame.jpg"
) -> httpx.Response:
    params = {"detect": str(detect).lower()}
    return client.post("/v1/face", params=params, files={"image": (name, data, "application/octet-stream")})


def overlap(a: list[int] | tuple, b: list[int] | tuple) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)
