"""Real test media: webcam JPEGs with FER2013 faces (`tests.support.frames`), and RAVDESS speech encoded to
WebM/Opus as a browser's MediaRecorder records it (`ai_server.audio.encode`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from tests.support.data import RAVDESS, ravdess_clip, val_faces
from tests.support.frames import compose, empty_frame


@lru_cache
def one_face(label: str = "happy") -> bytes:
    """A webcam frame with one 180 px face of `label`."""
    return compose([(val_faces(label, 1)[0], 240, 140, 180)]).jpeg()


@lru_cache
def three_faces() -> bytes:
    """A webcam frame with three faces (the layout the AI tests check)."""
    paths = [val_faces("happy", 1)[0], val_faces("surprise", 1, 1)[0], val_faces("neutral", 1, 1)[0]]
    return compose([(paths[0], 20, 60, 150), (paths[1], 230, 40, 200), (paths[2], 460, 150, 170)]).jpeg()


@lru_cache
def no_face() -> bytes:
    """A webcam frame of an empty room."""
    return empty_frame(3, textured=False).jpeg()


@lru_cache
def webm_speech(emotion_code: str = "03", actor: int = 1, seconds: float = 5.0) -> bytes:
    """`seconds` of a RAVDESS clip (looped) as WebM/Opus 48 kHz stereo."""
    pcm = decode_audio(ravdess_clip(emotion_code, actor).read_bytes())
    reps = int(np.ceil(seconds * SAMPLE_RATE / len(pcm)))
    return encode_audio(np.tile(pcm, reps)[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE, "webm")


def mixed_speech(seconds: float, seed: int = 0) -> bytes:
    """``seconds`` of RAVDESS clips picked at random (with their pauses), joined, as WebM/Opus."""
    rng = np.random.default_rng(seed)
    files = sorted(RAVDESS.glob("Actor_*/*.flac"))
    parts, total = [], 0
    while total < seconds * SAMPLE_RATE:
        clip = decode_audio(files[int(rng.integers(len(files)))].read_bytes())
        parts.append(clip)
        total += clip.size
    return encode_audio(np.concatenate(parts)[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE, "webm")
