"""Haar cascade face detection tuned for webcam frames, and face cropping with a margin.

On cluttered backgrounds (bookshelves, posters, patterned walls) the frontal cascade fires on texture: a frame
with one student reads as "several people", and the false box may even be the largest. With
``DetectParams.verify`` (the default) every box that matters is checked by a second, independently trained
cascade (``frontalface_alt2``) on a normalised crop around it:

- one box with at least ``min_neighbors`` neighbours: returned as is (the common case, no extra cost);
- several: the ones that pass verification are kept, largest first; when none passes, the largest alone;
- none: the weaker candidates (2..min_neighbors neighbours, found by the same cascade pass) are tried largest
  first and the first one that ``frontalface_alt2`` confirms is returned (a face Haar almost missed on a busy
  background);
- still none (the default cascade did not fire on the face at all): with ``DetectParams.fallback``, a second
  whole-frame pass with ``frontalface_alt2`` on the same downscaled frame; its largest box that
  ``frontalface_alt`` confirms and that has at least ``fallback_min_neighbors`` neighbours (or, with fewer,
  that the default cascade also confirms on the crop) is returned. About one more cascade run, on faceless
  frames only.

A box passes when ``frontalface_alt2`` finds the same face (IoU >= 0.4) and, unless the default cascade's own
support is strong (at least ``verify_min_neighbors`` neighbours), ``frontalface_alt`` does too.
"""

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ai_server.vision.preprocess import to_grey

CASCADE_PATH = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
VERIFY_PATH = cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml"
VERIFY2_PATH = cv2.data.haarcascades + "haarcascade_frontalface_alt.xml"
VERIFY_SIZE = 48  # a candidate is verified on a crop rescaled so the face is this many pixels wide
VERIFY_GROW = 0.3  # context around the candidate in the verification crop, as a fraction of its size
VERIFY_IOU = 0.4
_local = threading.local()


def _cascade(path: str = CASCADE_PATH) -> cv2.CascadeClassifier:
    """One classifier per thread and file (CascadeClassifier is not safe to share between threads)."""
    cascades = getattr(_local, "cascades", None)
    if cascades is None:
        cascades = _local.cascades = {}
    cascade = cascades.get(path)
    if cascade is None:
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")
        cascades[path] = cascade
    return cascade


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class DetectParams:
    max_side: int = 240
    min_face_fraction: float = 0.15
    scale_factor: float = 1.08
    min_neighbors: int = 3
    margin: float = 0.05
    verify: bool = True
    verify_min_neighbors: int = 6
    fallback: bool = True  # the second whole-frame pass (``frontalface_alt2``) when nothing is found
    fallback_min_neighbors: int = 5
    fallback_weak_min_neighbors: int = (
        4  # with fewer than fallback_min_neighbors, the default cascade must agree
    )

    @classmethod
    def from_settings(cls, s) -> "DetectParams":
        """The AI server's detection settings (``ai_server.config.Settings``, the ``detect_*`` fields)."""
        return cls(
            s.detect_max_side,
            s.detect_min_face_fraction,
            s.detect_scale_factor,
            s.detect_min_neighbors,
            s.face_margin,
            s.detect_verify,
            s.detect_verify_min_neighbors,
        )


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def confirms(grey: np.ndarray, box: Box, path: str = VERIFY_PATH) -> bool:
    """True when the cascade at ``path`` finds a face at ``box`` (IoU >= 0.4) in a crop around it, rescaled
    so the box is ``VERIFY_SIZE`` pixels wide, searched at 0.7-1.4 times that size only (small fixed cost)."""
    g = round(box.w * VERIFY_GROW)
    x0, y0 = max(0, box.x - g), max(0, box.y - g)
    x1, y1 = min(grey.shape[1], box.x + box.w + g), min(grey.shape[0], box.y + box.h + g)
    k = VERIFY_SIZE / box.w
    size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
    crop = cv2.resize(grey[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    lo, hi = round(VERIFY_SIZE * 0.7), round(VERIFY_SIZE * 1.4)
    found = _cascade(path).detectMultiScale(crop, 1.05, 3, minSize=(lo, lo), maxSize=(hi, hi))
    target = (round((box.x - x0) * k), round((box.y - y0) * k), VERIFY_SIZE, round(box.h * k))
    return any(_iou(tuple(int(v) for v in f), target) >= VERIFY_IOU for f in found)


def verified(grey: np.ndarray, box: Box, neighbours: int, params: DetectParams) -> bool:
    """The second opinion on a candidate: ``frontalface_alt2`` agrees, and so does ``frontalface_alt`` unless
    the default cascade's support is strong (``params.verify_min_neighbors`` neighbours or more)."""
    if not confirms(grey, box, VERIFY_PATH):
        return False
    return neighbours >= params.verify_min_neighbors or confirms(grey, box, VERIFY2_PATH)


def detect_faces(grey: np.ndarray, params: DetectParams) -> list[Box]:
    """Faces in a grey frame, in full-resolution coordinates, largest first.

    Detection runs on a copy downscaled so its longer side is at most ``params.max_side`` (fast, and webcam
    faces are large); faces under ``min_face_fraction`` of the shorter side (at least 20 px) are ignored.
    """
    h, w = grey.shape[:2]
    scale = min(1.0, params.max_side / max(h, w))
    small = grey
    if scale < 1:
        small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    min_side = max(20, int(min(small.shape[:2]) * params.min_face_fraction))
    if min(small.shape[:2]) < min_side:
        return []
    if not params.verify:
        found = _cascade().detectMultiScale(
            small,
            scaleFactor=params.scale_factor,
            minNeighbors=params.min_neighbors,
            minSize=(min_side, min_side),
        )
        boxes = [Box(*(round(v / scale) for v in (x, y, bw, bh))) for (x, y, bw, bh) in found]
        return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)
    # one cascade pass that also keeps the weak clusters (>= 2 hits); n > min_neighbors is exactly what
    # detectMultiScale(minNeighbors=min_neighbors) returns
    found, counts = _cascade().detectMultiScale2(
        small, scaleFactor=params.scale_factor, minNeighbors=1, minSize=(min_side, min_side)
    )
    candidates = sorted(
        ((Box(*(round(v / scale) for v in box)), int(n)) for box, n in zip(found, counts, strict=True)),
        key=lambda c: c[0].w * c[0].h,
        reverse=True,
    )
    strong = [c for c in candidates if c[1] > params.min_neighbors]
    if len(strong) == 1:
        return [strong[0][0]]
    if strong:
        kept = [box for box, n in strong if verified(grey, box, n, params)]
        return kept or [strong[0][0]]
    for box, _ in candidates:  # rescue: a face the default cascade only weakly supports
        if confirms(grey, box, VERIFY_PATH):
            return [box]
    if params.fallback:  # the default cascade did not fire on it at all: ask frontalface_alt2 over the frame
        return _fallback(grey, small, scale, min_side, params)
    return []


def _fallback(
    grey: np.ndarray, small: np.ndarray, scale: float, min_side: int, params: DetectParams
) -> list[Box]:
    """The largest ``frontalface_alt2`` box (same downscaled frame and sizes) that ``frontalface_alt``
    confirms, with ``fallback_min_neighbors`` neighbours or, from ``fallback_weak_min_neighbors``, confirmed
    by the default cascade as well. On empty textured rooms (tuning seeds) alt2's boxes have at most 4
    neighbours, the faces it finds mostly 5 or more."""
    found, counts = _cascade(VERIFY_PATH).detectMultiScale2(
        small, scaleFactor=params.scale_factor, minNeighbors=1, minSize=(min_side, min_side)
    )
    candidates = sorted(
        ((Box(*(round(v / scale) for v in box)), int(n)) for box, n in zip(found, counts, strict=True)),
        key=lambda c: c[0].w * c[0].h,
        reverse=True,
    )
    for box, n in candidates:
        if n < params.fallback_weak_min_neighbors or not confirms(grey, box, VERIFY2_PATH):
            continue
        if n >= params.fallback_min_neighbors or confirms(grey, box, CASCADE_PATH):
            return [box]
    return []


def crop_face(grey: np.ndarray, box: Box, margin: float = 0.1) -> np.ndarray:
    """The square-ish crop of ``box`` grown by ``margin`` of its size on each side, clipped to the frame."""
    h, w = grey.shape[:2]
    mx, my = round(box.w * margin), round(box.h * margin)
    x0, y0 = max(0, box.x - mx), max(0, box.y - my)
    x1, y1 = min(w, box.x + box.w + mx), min(h, box.y + box.h + my)
    return grey[y0:y1, x0:x1]


def find_face_crops(
    image: np.ndarray, detect: bool, params: DetectParams, scale: int = 1
) -> tuple[list[Box], list[np.ndarray]]:
    """(boxes, grey crops) for every face, or the whole image as one face when ``detect`` is False.

    ``scale``: the image was decoded at 1/scale size; boxes are returned in full-size coordinates.
    """
    grey = to_grey(image)
    if not detect:
        return [Box(0, 0, grey.shape[1] * scale, grey.shape[0] * scale)], [grey]
    boxes = detect_faces(grey, params)
    crops = [crop_face(grey, b, params.margin) for b in boxes]
    return [Box(b.x * scale, b.y * scale, b.w * scale, b.h * scale) for b in boxes], crops
