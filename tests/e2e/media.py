"""Fake camera and microphone for Chromium, built from real data in /work/shared/data.

- `build_y4m`: FER2013 validation faces (grey 48x48 crops that the AI server's detector finds once upscaled),
  each composed onto a 640x480 background (`tests.support.frames.compose`) and shown for a couple of seconds,
  as a YUV4MPEG2 (4:2:0) video that Chromium loops (`--use-file-for-fake-video-capture`).
- `build_wav`: RAVDESS speech clips (16 kHz mono FLAC) joined with short pauses into a 16-bit PCM WAV that
  Chromium loops as the microphone (`--use-file-for-fake-audio-capture`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

from ai_server.vision.detect import DetectParams, detect_faces
from tests.support.data import FER_VAL, RAVDESS
from tests.support.frames import H, W, compose

FACE_PX = 240
FPS = 5

# (label, seconds on screen): a sequence with a clear majority, so charts have a visible shape
FACE_SEQUENCE = [("happy", 2), ("happy", 2), ("surprise", 2), ("neutral", 2), ("sad", 2), ("happy", 2)]
# RAVDESS: 03-01-EE-II-SS-RR-AA; emotion 03 happy, 05 angry, 04 sad; strong intensity (02)
SPEECH_CLIPS = ["Actor_01/03-01-03-02-01-01-01.flac", "Actor_02/03-01-05-02-01-01-02.flac",
                "Actor_03/03-01-04-02-02-01-03.flac"]  # fmt: skip


def _frame(path: Path) -> np.ndarray:
    """A 640x480 grey frame with the face upscaled in the middle."""
    x, y = (W - FACE_PX) // 2, (H - FACE_PX) // 2
    return cv2.cvtColor(compose([(path, x, y, FACE_PX)]).image, cv2.COLOR_BGR2GRAY)


def detectable_faces(label: str, count: int) -> list[np.ndarray]:
    """Grey frames of the first `count` validation crops of `label` whose composed frame has exactly one face
    for the AI server's own detector (default settings)."""
    params = DetectParams()
    found = []
    for path in sorted((FER_VAL / label).glob("*.jpg")):
        frame = _frame(path)
        if len(detect_faces(frame, params)) == 1:
            found.append(frame)
            if len(found) == count:
                return found
    raise RuntimeError(f"not enough detectable {label} faces in {FER_VAL / label}")


def build_y4m(path: Path) -> Path:
    """Write the fake webcam video; returns `path`."""
    wanted: dict[str, int] = {}
    for label, _ in FACE_SEQUENCE:
        wanted[label] = wanted.get(label, 0) + 1
    faces = {label: detectable_faces(label, n) for label, n in wanted.items()}
    used = {label: 0 for label in wanted}
    chroma = np.full((H // 2) * (W // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for label, seconds in FACE_SEQUENCE:
            luma = faces[label][used[label]].tobytes()
            used[label] += 1
            for _ in range(seconds * FPS):
                out.write(b"FRAME\n")
                out.write(luma)
                out.write(chroma)
                out.write(chroma)
    return path


def build_wav(path: Path, pause_s: float = 0.4) -> Path:
    """Write the fake microphone: RAVDESS clips with short pauses, 16-bit PCM; returns `path`."""
    parts = []
    rate = None
    for rel in SPEECH_CLIPS:
        audio, sr = sf.read(str(RAVDESS / rel), dtype="float32", always_2d=False)
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        rate = rate or sr
        assert sr == rate, "clips must share a sample rate"
        parts += [audio, np.zeros(int(pause_s * sr), dtype=np.float32)]
    sf.write(str(path), np.concatenate(parts), rate, subtype="PCM_16")
    return path
