"""Real test media: FER2013 faces composed into 640x480 JPEGs, RAVDESS speech re-encoded to WebM/Opus."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

DATA = Path("/work/shared/data")
FER_VAL = DATA / "fer2013" / "val"
RAVDESS = DATA / "ravdess"
FRAME_W, FRAME_H = 640, 480


def _haar() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def compose_frame(faces: list[np.ndarray], face_px: int = 200, seed: int = 0) -> bytes:
    """Paste grey face crops, upscaled to `face_px`, side by side on a 640x480 noisy grey JPEG."""
    rng = np.random.default_rng(seed)
    canvas = rng.integers(90, 140, size=(FRAME_H, FRAME_W), dtype=np.uint8)
    canvas = cv2.GaussianBlur(canvas, (9, 9), 0)
    n = len(faces)
    for i, face in enumerate(faces):
        big = cv2.resize(face, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
        x = int((i + 1) * FRAME_W / (n + 1) - face_px / 2)
        y = (FRAME_H - face_px) // 2
        canvas[y : y + face_px, x : x + face_px] = big
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return jpg.tobytes()


def blank_frame(seed: int = 1) -> bytes:
    """A 640x480 JPEG with no face in it."""
    return compose_frame([], seed=seed)


@lru_cache
def detectable_faces(label: str, count: int = 3) -> tuple[np.ndarray, ...]:
    """The first `count` FER validation crops of `label` that OpenCV's Haar cascade finds in a frame."""
    cascade = _haar()
    found: list[np.ndarray] = []
    for path in sorted((FER_VAL / label).glob("*.jpg")):
        face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        frame = cv2.imdecode(np.frombuffer(compose_frame([face]), np.uint8), cv2.IMREAD_GRAYSCALE)
        small = cv2.resize(frame, (320, 240))
        if len(cascade.detectMultiScale(small, 1.1, 5, minSize=(24, 24))) == 1:
            found.append(face)
            if len(found) == count:
                break
    assert len(found) == count, f"not enough detectable {label} faces"
    return tuple(found)


def ravdess_clip(emotion_code: str = "03", actor: int = 1) -> Path:
    """A RAVDESS speech clip: emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fear..."""
    clips = sorted((RAVDESS / f"Actor_{actor:02d}").glob(f"03-01-{emotion_code}-*.flac"))
    assert clips, f"no RAVDESS clip for emotion {emotion_code} actor {actor}"
    return clips[0]


def to_webm_opus(path: Path, min_seconds: float = 0.0) -> bytes:
    """Re-encode an audio file to WebM/Opus (48 kHz mono) as a browser's MediaRecorder would; optionally
    loop it until it lasts at least `min_seconds`."""
    with av.open(str(path)) as src:
        stream = src.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        pcm = [f.to_ndarray().reshape(-1) for frame in src.decode(stream) for f in resampler.resample(frame)]
    samples = np.concatenate(pcm)
    while len(samples) < min_seconds * 48000:
        samples = np.concatenate([samples, samples])
    if min_seconds:
        samples = samples[: int(min_seconds * 48000)]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        ost = out.add_stream("libopus", rate=48000, layout="mono")
        for start in range(0, len(samples), 960):
            chunk = samples[start : start + 960]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = 48000
            for packet in ost.encode(frame):
                out.mux(packet)
        for packet in ost.encode(None):
            out.mux(packet)
    return buf.getvalue()


def audio_duration(data: bytes) -> float:
    """Decoded duration in seconds of an in-memory recording."""
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        return sum(f.samples for f in c.decode(s)) / s.rate
