"""Face detection in a region around a hint: the web server sends the attempt's last face box, and a student
mostly stays where they were. The region (the box grown by ``ROI_GROW`` of its size on each side) is
rescaled so the hinted face is ``ROI_FACE_PX`` pixels wide and searched with the default cascade at 0.6-1.6
times that size only: a few small pyramid levels instead of a whole frame's. A face found with weak support
must be confirmed by ``frontalface_alt2`` (as in ``detect.py``). Nothing found: the caller searches the whole
frame; so does every N-th frame of an attempt (the web server sends no hint then), which finds a second
person or a face that moved away. The AI server keeps no state between requests.
"""

import cv2
import numpy as np

from ai_server.vision.detect import VERIFY_PATH, Box, DetectParams, _cascade, confirms

ROI_GROW = 0.6
ROI_FACE_PX = 48
ROI_MIN, ROI_MAX = 0.6, 1.6


def parse_hint(value: object, scale: int, shape: tuple[int, int]) -> Box | None:
    """A hint [x, y, w, h] in full-frame pixels -> a Box in the decoded image (1/scale), or None."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    try:
        x, y, w, h = (int(round(float(v) / scale)) for v in value)
    except (TypeError, ValueError, OverflowError):  # not numbers, NaN, Infinity
        return None
    height, width = shape
    if w < 8 or h < 8 or x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return None
    return Box(x, y, w, h)


def detect_near(grey: np.ndarray, hint: Box, params: DetectParams) -> list[Box]:
    """The face near ``hint`` (at most one, in ``grey``'s coordinates), or [] when none is found there."""
    g = round(max(hint.w, hint.h) * ROI_GROW)
    x0, y0 = max(0, hint.x - g), max(0, hint.y - g)
    x1, y1 = min(grey.shape[1], hint.x + hint.w + g), min(grey.shape[0], hint.y + hint.h + g)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    k = min(1.0, ROI_FACE_PX / hint.w)
    region = grey[y0:y1, x0:x1]
    if k < 1.0:
        size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    face_px = hint.w * k
    lo, hi = max(20, round(face_px * ROI_MIN)), round(face_px * ROI_MAX)
    if min(region.shape[:2]) < lo:
        return []
    found, counts = _cascade().detectMultiScale2(
        region, scaleFactor=params.scale_factor, minNeighbors=1, minSize=(lo, lo), maxSize=(hi, hi)
    )
    candidates = sorted(
        (
            (Box(x0 + round(x / k), y0 + round(y / k), round(w / k), round(h / k)), int(n))
            for (x, y, w, h), n in zip(found, counts, strict=True)
            if n > params.min_neighbors
        ),
        key=lambda c: c[0].w * c[0].h,
        reverse=True,
    )
    for box, n in candidates:
        if not params.verify or n >= params.verify_min_neighbors or confirms(grey, box, VERIFY_PATH):
            return [box]
    return []
