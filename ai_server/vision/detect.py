"""Haar cascade face detection tuned for webcam frames, and face cropping with a margin."""

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ai_server.vision.preprocess import to_grey

CASCADE_PATH = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
_local = threading.local()


def _cascade() -> cv2.CascadeClassifier:
    """One classifier per thread (CascadeClassifier is not safe to share between threads)."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(CASCADE_PATH)
        if cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {CASCADE_PATH}")
        _local.cascade = cascade
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
    found = _cascade().detectMultiScale(
        small,
        scaleFactor=params.scale_factor,
        minNeighbors=params.min_neighbors,
        minSize=(min_side, min_side),
    )
    boxes = [Box(*(round(v / scale) for v in (x, y, bw, bh))) for (x, y, bw, bh) in found]
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


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
