"""Deterministic 640x480 webcam-like test frames with real faces pasted in (no downloads).

Faces: FER2013 ``val`` crops (48x48 grey) and RAF-DB ``train`` crops (100x100 colour) from
``/work/shared/data``, upscaled to a webcam face size (120-220 px) and pasted with a soft-edged blend. Only
faces that OpenCV's default frontal Haar cascade finds alone on a plain grey frame are used (``detectable``: a
fixed, settings-free check, so the frames do not change when the server's detection settings change): the
frames measure what the background does to the detector, not how many FER2013 crops are profiles or half
faces.

Backgrounds: ``plain`` (a lit gradient with sensor noise and a few large shapes, as the older helpers draw) or
``textured`` (clutter: noise at several scales, stripes and checkerboards, a bookshelf of coloured spines,
posters with text, lines and ellipses, uneven lighting): what makes Haar report faces that are not there.

    frames = single_person_frames(200, seed=7)          # list[Frame]
    frames[0].jpeg(), frames[0].boxes                  # JPEG bytes, true (x, y, w, h) boxes

    frame = compose([(val_faces("happy", 1)[0], 240, 140, 180)])  # chosen faces at chosen places

Every frame is a function of its arguments only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tests.support.data import FER_VAL, LABELS, RAF_TRAIN, val_faces

__all__ = ["Frame", "compose", "empty_frame", "encode", "iou", "single_person_frame", "single_person_frames",
           "two_person_frame", "two_person_frames", "val_faces"]  # fmt: skip
W, H = 640, 480
FACE_MIN, FACE_MAX = 120, 220
_WORDS = ("MATHS", "Exam", "2024", "NOTICE", "the quick brown fox", "SALE", "Physics 101", "Room 12",
          "welcome", "QUIZ", "Library", "EXIT", "open 9-17", "TEAM", "Chapter 3")  # fmt: skip
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
          cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)  # fmt: skip


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR uint8, H x W x 3
    boxes: tuple[tuple[int, int, int, int], ...]  # true (x, y, w, h) of each pasted face
    textured: bool

    def jpeg(self, quality: int = 90) -> bytes:
        return encode(self.image, ".jpg", quality)


def encode(image: np.ndarray, ext: str = ".jpg", quality: int = 90) -> bytes:
    """``image`` as an ``ext`` file (.jpg at ``quality``, .png, .webp)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, image, params)
    assert ok
    return buf.tobytes()


# ---------------------------------------------------------------- faces


@lru_cache
def face_paths() -> tuple[Path, ...]:
    """Every FER2013 val and RAF-DB train face, in a fixed order."""
    paths: list[Path] = []
    for root in (FER_VAL, RAF_TRAIN):
        for label in LABELS:
            paths += sorted((root / label).glob("*.jpg"))
    if not paths:
        raise RuntimeError(f"no faces under {FER_VAL} or {RAF_TRAIN}")
    return tuple(paths)


@lru_cache(maxsize=4096)
def load_face(path: Path) -> np.ndarray:
    """The face as BGR uint8 (FER2013's grey crops are replicated to three channels)."""
    face = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if face is None:
        raise RuntimeError(f"cannot read {path}")
    return face


@lru_cache
def _plain_cascade() -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert not cascade.empty()
    return cascade


@lru_cache(maxsize=16384)
def detectable(path: Path) -> bool:
    """True when the frontal Haar cascade finds this face, and only it, at 120 to 220 px and a few offsets on
    a plain grey background downscaled by 240/640 as the AI server does (minNeighbors 3; searched at sizes
    near the face's only, which keeps the check cheap)."""
    face = load_face(path)
    for size, off in ((120, 20), (124, 23), (135, 26), (160, 21), (190, 24), (220, 22)):
        canvas = np.full((size + 2 * off, size + 2 * off, 3), 128, np.uint8)
        _paste(canvas, face, off, off, size)
        side = round(canvas.shape[0] * 0.375)
        small = cv2.resize(
            cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY), (side, side), interpolation=cv2.INTER_AREA
        )
        lo, hi = max(27, round(size * 0.375 * 0.7)), round(size * 0.375 * 1.4)
        found = _plain_cascade().detectMultiScale(small, 1.08, 3, minSize=(lo, lo), maxSize=(hi, hi))
        if len(found) != 1:
            return False
    return True


def _pick_face(rng: np.random.Generator) -> np.ndarray:
    paths = face_paths()
    while True:
        path = paths[int(rng.integers(len(paths)))]
        if detectable(path):
            return load_face(path)


def _paste(frame: np.ndarray, face: np.ndarray, x: int, y: int, size: int, feather: float = 0.08) -> None:
    """Blend ``face`` (bicubic upscaled to ``size``) at (x, y) with a soft edge ``feather`` of its size."""
    big = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    edge = max(2, round(size * feather))
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / edge, 0, 1).astype(np.float32)
    alpha = np.minimum(ramp[:, None], ramp[None, :])[..., None]
    region = frame[y : y + size, x : x + size].astype(np.float32)
    frame[y : y + size, x : x + size] = np.clip(alpha * big + (1 - alpha) * region, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- backgrounds


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def _lighting(rng: np.random.Generator) -> np.ndarray:
    """A smooth multiplicative light field (a window on one side, a lamp)."""
    gx = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.9, 1.3), W, dtype=np.float32)[None, :]
    gy = np.linspace(rng.uniform(0.8, 1.1), rng.uniform(0.7, 1.1), H, dtype=np.float32)[:, None]
    return (gx * gy)[..., None]


def _noise(rng: np.random.Generator) -> np.ndarray:
    """Noise at several scales (a coarse blotchy wall down to fine grain), BGR float in about [0, 255]."""
    acc = np.zeros((H // 4, W // 4, 3), np.float32)
    for cells, amp in ((4, 50), (16, 30), (64, 18)):
        field = rng.standard_normal((max(2, cells * H // W), cells, 3), dtype=np.float32)
        acc += amp * cv2.resize(field, (W // 4, H // 4), interpolation=cv2.INTER_CUBIC)
    acc += 10 * rng.standard_normal(acc.shape, dtype=np.float32)
    return cv2.resize(acc, (W, H), interpolation=cv2.INTER_CUBIC) + np.array(
        _colour(rng, 70, 190), np.float32
    )


def _stripes(rng: np.random.Generator) -> np.ndarray:
    """Stripes (wallpaper, blinds) or a checkerboard (tiles, a shirt), at a random pitch and angle."""
    xs, ys = np.arange(W, dtype=np.float32)[None, :], np.arange(H, dtype=np.float32)[:, None]
    pitch = rng.uniform(6, 40)
    angle = rng.uniform(0, np.pi)
    c, s = np.float32(np.cos(angle) / pitch), np.float32(np.sin(angle) / pitch)
    band = (xs * c + ys * s + 1000).astype(np.int32)
    if rng.random() < 0.5:
        band += (ys * c - xs * s + 1000).astype(np.int32)
    mask = (band & 1).astype(np.float32)[..., None]
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    return a + (b - a) * mask


def _bookshelf(frame: np.ndarray, rng: np.random.Generator, x0: int, x1: int) -> None:
    """Shelves of books: vertical rectangles of random colours, widths and heights, with spine labels."""
    y = int(rng.integers(0, 60))
    while y < H - 40:
        shelf_h = int(rng.integers(70, 130))
        cv2.rectangle(frame, (x0, y + shelf_h), (x1, y + shelf_h + 10), _colour(rng, 60, 140), -1)
        x = x0
        while x < x1:
            bw = int(rng.integers(8, 30))
            bh = int(rng.integers(shelf_h * 6 // 10, shelf_h))
            cv2.rectangle(frame, (x, y + shelf_h - bh), (x + bw, y + shelf_h), _colour(rng), -1)
            if rng.random() < 0.4:
                cv2.line(
                    frame, (x + 2, y + shelf_h - bh + 8), (x + bw - 2, y + shelf_h - bh + 8), _colour(rng), 2
                )
            x += bw + int(rng.integers(0, 3))
        y += shelf_h + 10


def _poster(frame: np.ndarray, rng: np.random.Generator) -> None:
    """A poster or whiteboard with lines of text."""
    pw, ph = int(rng.integers(120, 300)), int(rng.integers(100, 260))
    px, py = int(rng.integers(-40, W - 60)), int(rng.integers(-40, H - 60))
    cv2.rectangle(frame, (px, py), (px + pw, py + ph), _colour(rng, 150, 256), -1)
    cv2.rectangle(frame, (px, py), (px + pw, py + ph), _colour(rng, 0, 120), int(rng.integers(1, 5)))
    ty = py + 25
    while ty < py + ph - 5:
        scale = float(rng.uniform(0.5, 1.6))
        text = _WORDS[int(rng.integers(len(_WORDS)))]
        font = _FONTS[int(rng.integers(len(_FONTS)))]
        cv2.putText(frame, text, (px + 8, ty), font, scale, _colour(rng, 0, 140), int(rng.integers(1, 4)))
        ty += int(30 * scale) + 8


def _scribbles(frame: np.ndarray, rng: np.random.Generator, n: int) -> None:
    """Random lines, circles and ellipses (cables, lamps, mugs, a clock)."""
    for _ in range(n):
        colour, thick = _colour(rng), int(rng.integers(-1, 6))
        centre = (int(rng.integers(0, W)), int(rng.integers(0, H)))
        kind = rng.integers(3)
        if kind == 0:
            end = (int(rng.integers(0, W)), int(rng.integers(0, H)))
            cv2.line(frame, centre, end, colour, max(1, thick))
        elif kind == 1:
            axes = (int(rng.integers(5, 60)), int(rng.integers(5, 60)))
            cv2.ellipse(frame, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, thick)
        else:
            cv2.circle(frame, centre, int(rng.integers(3, 40)), colour, thick)


def plain_background(rng: np.random.Generator) -> np.ndarray:
    """A webcam-like wall: a lit gradient with sensor noise, a desk edge and a block (a chair, a door)."""
    gx = np.linspace(rng.uniform(40, 120), rng.uniform(130, 220), W, dtype=np.float32)[None, :]
    gy = np.linspace(0, rng.uniform(0, 50), H, dtype=np.float32)[:, None]
    tint = rng.uniform(0.8, 1.2, 3).astype(np.float32)
    grain = rng.integers(-8, 9, (H, W, 1), dtype=np.int8)
    frame = np.clip((gx + gy)[..., None] * tint + grain, 0, 255).astype(np.uint8)
    cv2.rectangle(frame, (int(rng.integers(0, 500)), int(rng.integers(330, 420))), (W, H), _colour(rng), -1)
    if rng.random() < 0.5:
        x = int(rng.integers(0, 500))
        cv2.rectangle(
            frame, (x, int(rng.integers(0, 200))), (x + int(rng.integers(60, 160)), H), _colour(rng), -1
        )
    return frame


def textured_background(rng: np.random.Generator) -> np.ndarray:
    """A cluttered room: a textured base (noise or a pattern), then a bookshelf, posters and scribbles."""
    base = _noise(rng) if rng.random() < 0.6 else _stripes(rng)
    frame = np.clip(base, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        x0 = int(rng.integers(0, W // 2))
        _bookshelf(frame, rng, x0, min(W, x0 + int(rng.integers(160, 400))))
    if rng.random() < 0.4:  # a patterned region (a curtain, a shirt) over the base
        x0, y0 = int(rng.integers(0, W - 100)), int(rng.integers(0, H - 100))
        x1, y1 = x0 + int(rng.integers(80, 300)), y0 + int(rng.integers(80, 300))
        frame[y0:y1, x0:x1] = np.clip(_stripes(rng), 0, 255).astype(np.uint8)[y0:y1, x0:x1]
    for _ in range(int(rng.integers(0, 3))):
        _poster(frame, rng)
    _scribbles(frame, rng, int(rng.integers(3, 15)))
    lit = frame.astype(np.float32) * _lighting(rng) + rng.integers(-7, 8, (H, W, 1), dtype=np.int8)
    return np.clip(cv2.GaussianBlur(lit, (3, 3), 0), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- frames


def _rng(kind: str, index: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, index, {"single": 1, "pair": 2, "empty": 3, "composed": 4}[kind]])


def _background(rng: np.random.Generator, textured: bool) -> np.ndarray:
    return textured_background(rng) if textured else plain_background(rng)


def single_person_frame(index: int, seed: int = 0, textured: bool = True) -> Frame:
    """One detectable face of 120-220 px, anywhere in the frame that a seated student might be."""
    rng = _rng("single", index, seed)
    frame = _background(rng, textured)
    size = int(rng.integers(FACE_MIN, FACE_MAX + 1))
    x = int(rng.integers(20, W - size - 20))
    y = int(rng.integers(10, H - size - 10))
    _paste(frame, _pick_face(rng), x, y, size)
    return Frame(frame, ((x, y, size, size),), textured)


def two_person_frame(index: int, seed: int = 0, textured: bool = True) -> Frame:
    """Two detectable faces side by side (120-200 px each, at least 20 px apart)."""
    rng = _rng("pair", index, seed)
    frame = _background(rng, textured)
    s1, s2 = (int(v) for v in rng.integers(FACE_MIN, 201, 2))
    gap = int(rng.integers(20, W - 20 - s1 - s2 - 20 + 1))
    x1 = int(rng.integers(10, W - s1 - s2 - gap - 10 + 1))
    x2 = x1 + s1 + gap
    y1, y2 = int(rng.integers(10, H - s1 - 10)), int(rng.integers(10, H - s2 - 10))
    _paste(frame, _pick_face(rng), x1, y1, s1)
    _paste(frame, _pick_face(rng), x2, y2, s2)
    return Frame(frame, ((x1, y1, s1, s1), (x2, y2, s2, s2)), textured)


def empty_frame(index: int, seed: int = 0, textured: bool = True) -> Frame:
    """No face at all."""
    return Frame(_background(_rng("empty", index, seed), textured), (), textured)


def compose(faces: list[tuple[Path, int, int, int]], seed: int = 0, textured: bool = False) -> Frame:
    """The faces ``(path, x, y, size)`` pasted where they are asked, on a plain (or textured) background of
    ``seed``: for tests that need a given face (a known label) at a given place."""
    rng = _rng("composed", 0, seed)
    frame = _background(rng, textured)
    for path, x, y, size in faces:
        _paste(frame, load_face(path), x, y, size)
    return Frame(frame, tuple((x, y, size, size) for _, x, y, size in faces), textured)


def single_person_frames(n: int, seed: int = 0, textured: bool = True) -> list[Frame]:
    return [single_person_frame(i, seed, textured) for i in range(n)]


def two_person_frames(n: int, seed: int = 0, textured: bool = True) -> list[Frame]:
    return [two_person_frame(i, seed, textured) for i in range(n)]


def iou(a: tuple | list, b: tuple | list) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)
