"""Late fusion of face and voice predictions over aligned time windows (pure functions, no I/O).

The rule (documented in docs/fusion.md):

1. Time is cut into windows of `window_s` seconds from the attempt's start: window k = [k*w, (k+1)*w).
2. Face: the probability vector of a window is the plain mean of the score vectors of the analysed frames
   whose time falls in it (frames without a face carry no emotion and are skipped).
3. Voice: a segment [start, end) contributes to every window it overlaps, weighted by the overlap length;
   the window's vector is the overlap-weighted mean.
4. Both vectors are put on the union of labels (a label a model does not know, e.g. `calm` for the face
   model, counts as probability 0 for it), then fused = (wf * face + wv * voice) / (wf + wv).
   A window with only one modality takes that modality's vector (its weight renormalised to 1).
5. The fused vector is renormalised to sum 1; its argmax is the fused emotion, its value the confidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FACE_LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
VOICE_LABELS = ("angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise")
ALL_LABELS = VOICE_LABELS


@dataclass(frozen=True)
class Scored:
    """A prediction over [start_s, end_s) seconds from the attempt's start (a frame has start == end)."""

    start_s: float
    end_s: float
    scores: dict[str, float]


def _accumulate(acc: dict[int, tuple[dict[str, float], float]], k: int, scores: dict[str, float], w: float):
    vec, total = acc.get(k, ({}, 0.0))
    for label, p in scores.items():
        vec[label] = vec.get(label, 0.0) + w * float(p)
    acc[k] = (vec, total + w)


def _means(acc: dict[int, tuple[dict[str, float], float]]) -> dict[int, dict[str, float]]:
    return {k: {label: v / total for label, v in vec.items()} for k, (vec, total) in acc.items() if total > 0}


def window_face(frames: Iterable[Scored], window_s: float) -> dict[int, dict[str, float]]:
    """Mean face score vector per window index."""
    acc: dict[int, tuple[dict[str, float], float]] = {}
    for f in frames:
        _accumulate(acc, max(0, math.floor(f.start_s / window_s)), f.scores, 1.0)
    return _means(acc)


def window_voice(segments: Iterable[Scored], window_s: float) -> dict[int, dict[str, float]]:
    """Overlap-weighted mean voice score vector per window index."""
    acc: dict[int, tuple[dict[str, float], float]] = {}
    for s in segments:
        start, end = max(0.0, s.start_s), max(0.0, s.end_s)
        if end <= start:  # a zero-length segment counts as a point in its window
            _accumulate(acc, math.floor(start / window_s), s.scores, 1e-6)
            continue
        k = math.floor(start / window_s)
        while k * window_s < end:
            overlap = min(end, (k + 1) * window_s) - max(start, k * window_s)
            if overlap > 0:
                _accumulate(acc, k, s.scores, overlap)
            k += 1
    return _means(acc)


def fuse_vectors(
    face: dict[str, float] | None,
    voice: dict[str, float] | None,
    face_weight: float,
    voice_weight: float,
    labels: Sequence[str] = ALL_LABELS,
) -> dict[str, float]:
    """Weighted average of two probability vectors on `labels`; a missing vector drops out."""
    parts = [(v, w) for v, w in ((face, face_weight), (voice, voice_weight)) if v is not None and w > 0]
    if not parts:
        return {}
    total_w = sum(w for _, w in parts)
    fused = {label: sum(w * float(v.get(label, 0.0)) for v, w in parts) / total_w for label in labels}
    norm = sum(fused.values())
    if norm > 0:
        fused = {label: p / norm for label, p in fused.items()}
    return fused


def fuse_timeline(
    frames: Iterable[Scored],
    segments: Iterable[Scored],
    window_s: float,
    face_weight: float,
    voice_weight: float,
    labels: Sequence[str] = ALL_LABELS,
) -> list[dict]:
    """Fused timeline: one entry per window that has face or voice data, in time order."""
    if window_s <= 0:
        raise ValueError("window_s must be positive")
    face = window_face(frames, window_s)
    voice = window_voice(segments, window_s)
    out = []
    for k in sorted(face.keys() | voice.keys()):
        f, v = face.get(k), voice.get(k)
        fused = fuse_vectors(f, v, face_weight, voice_weight, labels)
        if not fused:
            continue
        emotion = max(fused, key=lambda label: fused[label])
        out.append(
            {
                "start_s": k * window_s,
                "end_s": (k + 1) * window_s,
                "emotion": emotion,
                "confidence": round(fused[emotion], 6),
                "scores": {label: round(p, 6) for label, p in fused.items()},
                "sources": [name for name, vec in (("face", f), ("voice", v)) if vec is not None],
            }
        )
    return out
