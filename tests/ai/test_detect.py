"""Face counting on cluttered webcam frames (``tests.support.frames``): pure OpenCV, no model, under a minute.

Through the server's own path: JPEG -> ``decode_image`` (reduced decode) -> ``find_face_crops`` with the AI
server's default settings. Seed 7 was not used to tune the verification or the fallback (tuning used seeds 100
and 101). Frames and detections are computed once per session.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import pytest

from ai_server.config import Settings
from ai_server.vision.decode import decode_image
from ai_server.vision.detect import Box, DetectParams, find_face_crops
from tests.support.frames import Frame, empty_frame, iou, single_person_frames, two_person_frames

SEED = 7


def server_params() -> DetectParams:
    return DetectParams.from_settings(Settings())


def faces(frame: Frame, params: DetectParams) -> list[Box]:
    s = Settings()
    image, reduction = decode_image(frame.jpeg(), s.max_image_bytes, s.max_image_pixels, params.max_side)
    boxes, _ = find_face_crops(image, True, params, scale=reduction)
    return boxes


@lru_cache
def single() -> list[Frame]:
    return single_person_frames(200, SEED)


@lru_cache
def pairs() -> list[Frame]:
    return two_person_frames(100, SEED)


@lru_cache
def found(kind: str, params: DetectParams, n: int | None = None) -> list[list[Box]]:
    """Boxes on the (first ``n``) frames of ``kind`` ("single" or "pairs"), once per session and params."""
    return [faces(f, params) for f in (single() if kind == "single" else pairs())[:n]]


def test_server_defaults_verify() -> None:
    assert server_params().verify
    assert server_params().fallback


def test_single_person_textured_frames_count_one() -> None:
    found_now = found("single", server_params())
    n = len(found_now)
    several = sum(len(b) > 1 for b in found_now) / n
    none = sum(not b for b in found_now) / n
    right = sum(
        len(b) == 1 and iou(b[0].as_list(), f.boxes[0]) > 0.3
        for b, f in zip(found_now, single(), strict=True)
    )
    baseline_none = sum(not b for b in found("single", DetectParams(verify=False))) / n
    # issue 12 targets, measured 1.5% several (7.0% without verification) and 1.0% none (6.0% without; 3.5%
    # before the alt2 whole-frame fallback)
    assert several <= 0.02, f"several faces on {several:.1%} of single-person frames"
    assert none <= 0.02, f"no face on {none:.1%} of single-person frames"
    assert none <= baseline_none, "verification must never lose a face the cascade found"
    # measured 97.0% (87.0% without verification)
    assert right / n >= 0.95, f"the one face is the real one on {right / n:.1%} only"


def test_fallback_is_what_finds_the_missed_faces() -> None:
    """Without the whole-frame alt2 pass the same frames miss more faces: the frames are a real test of it
    (first 100 frames: 3 misses without it, 1 with it)."""
    without = sum(not b for b in found("single", replace(server_params(), fallback=False), 100))
    with_it = sum(not b for b in found("single", server_params())[:100])
    assert without >= with_it + 2


def test_two_person_frames_count_two() -> None:
    boxes = found("pairs", server_params())
    two = sum(len(b) == 2 for b in boxes) / len(boxes)
    assert two >= 0.90, f"two faces on {two:.1%} of two-person frames"


def test_verification_is_what_removes_the_false_faces() -> None:
    """Without verification the same frames do report several people: the frames are a real test."""
    several = sum(len(b) > 1 for b in found("single", DetectParams(verify=False))[:100])
    assert several >= 3


@pytest.mark.parametrize("textured", [False, True])
def test_empty_rooms(textured: bool) -> None:
    """Verification may rescue a weak candidate, and the alt2 fallback add a box, when nothing else is found:
    they must not turn many empty rooms into people (plain rooms: none; textured: at most one more than the
    unverified cascade)."""
    frames = [empty_frame(i, SEED, textured) for i in range(20)]
    with_face = sum(bool(faces(f, server_params())) for f in frames)
    baseline = sum(bool(faces(f, DetectParams(verify=False))) for f in frames)
    assert with_face <= baseline + (1 if textured else 0)
