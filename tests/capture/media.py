"""Real test media, built with the AI side's helpers: FER2013 faces composed into 640x480 webcam JPEGs
(`tests.ai.conftest`), RAVDESS speech encoded to WebM/Opus as a browser records it
(`ai_server.audio.encode`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from tests.ai.conftest import background, compose, encode, val_faces

RAVDESS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ravdess"


@lru_cache
def one_face(label: str = "happy") -> bytes:
    """A webcam frame with one 180 px face of `label`."""
    frame, _ = compose([(val_faces(label, 1)[0], 240, 140, 180)])
    return encode(frame)


@lru_cache
def three_faces() -> bytes:
    """A webcam frame with three faces (the layout the AI tests check)."""
    paths = [val_faces("happy", 1)[0], val_faces("surprise", 1, 1)[0], val_faces("neutral", 1, 1)[0]]
    frame, _ = compose([(paths[0], 20, 60, 150), (paths[1], 230, 40, 200), (paths[2], 460, 150, 170)])
    return encode(frame)


@lru_cache
def no_face() -> bytes:
    """A webcam frame of an empty room."""
    return encode(background(seed=3))


def ravdess_clip(emotion_code: str = "03", actor: int = 1) -> Path:
    """A RAVDESS speech clip: emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fear..."""
    clips = sorted((RAVDESS / f"Actor_{actor:02d}").glob(f"03-01-{emotion_code}-*.flac"))
    assert clips, f"no RAVDESS clip for emotion {emotion_code} actor {actor}"
    return clips[0]


@lru_cache
def webm_speech(emotion_code: str = "03", actor: int = 1, seconds: float = 5.0) -> bytes:
    """`seconds` of a RAVDESS clip (looped) as WebM/Opus 48 kHz stereo."""
    pcm = decode_audio(ravdess_clip(emotion_code, actor).read_bytes())
    reps = int(np.ceil(seconds * SAMPLE_RATE / len(pcm)))
    pcm = np.tile(pcm, reps)[: int(seconds * SAMPLE_RATE)]
    return encode_audio(pcm, SAMPLE_RATE, "webm")
