"""Face counting on cluttered webcam frames (``tests.support.frames``): pure OpenCV, no model, a few seconds.

Through the server's own path: JPEG -> ``decode_image`` (reduced decode) -> ``find_face_crops`` with the AI
server's default settings. Seed 7 was not used to tune the verification (tuning used seeds 100 and 101).
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from ai_server.config import Settings
from ai_server.vision.decode import decode_image
from ai_server.vision.detect import Box, DetectParams, find_face_crops
from tests.support.frames import Frame, empty_frame, iou, single_person_frames, two_person_frames

SEED = 7


def server_params() -> DetectParams:
    s = Settings()
    return DetectParams(
        s.detect_max_side,
        s.detect_min_face_fraction,
        s.detect_scale_factor,
        s.detect_min_neighbors,
        s.face_margin,
        s.detect_verify,
        s.detect_verify_min_neighbors,
    )


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


def test_server_defaults_verify() -> None:
    assert server_params().verify


def test_single_person_textured_frames_count_one() -> None:
    params = server_params()
    found = [faces(f, params) for f in single()]
    several = sum(len(b) > 1 for b in found) / len(found)
    none = sum(not b for b in found) / len(found)
    right = sum(
        len(b) == 1 and iou(b[0].as_list(), f.boxes[0]) > 0.3 for b, f in zip(found, single(), strict=True)
    )
    baseline_none = sum(not faces(f, DetectParams(verify=False)) for f in single()) / len(found)
    assert several <= 0.02, f"several faces on {several:.1%} of single-person frames"
    # measured 3.5% (6.0% without verification): the misses are faces the default cascade does not fire on
    # at all on a busy background, which no verification of its boxes can bring back; see the xfail below
    assert none <= 0.04, f"no face on {none:.1%} of single-person frames"
    assert none <= baseline_none, "verification must never lose a face the cascade found"
    # measured 94.5% (87.0% without verification)
    assert right / len(found) >= 0.93, f"the one face is the real one on {right / len(found):.1%} only"


@pytest.mark.xfail(
    reason="issue 12 target (<= 2% none) not met: 3.5% of textured frames, Haar misses", strict=False
)
def test_single_person_textured_frames_none_target() -> None:
    params = server_params()
    none = sum(not faces(f, params) for f in single()) / len(single())
    assert none <= 0.02


def test_two_person_frames_count_two() -> None:
    params = server_params()
    found = [faces(f, params) for f in pairs()]
    two = sum(len(b) == 2 for b in found) / len(found)
    assert two >= 0.90, f"two faces on {two:.1%} of two-person frames"


def test_verification_is_what_removes_the_false_faces() -> None:
    """Without verification the same frames do report several people: the frames are a real test."""
    params = DetectParams(verify=False)
    several = sum(len(faces(f, params)) > 1 for f in single()[:100])
    assert several >= 3


@pytest.mark.parametrize("textured", [False, True])
def test_empty_rooms(textured: bool) -> None:
    """Verification may rescue a weak candidate when nothing else is found: it must not turn many empty rooms
    into people (plain rooms: none; textured: at most one more than the unverified cascade)."""
    frames = [empty_frame(i, SEED, textured) for i in range(20)]
    with_face = sum(bool(faces(f, server_params())) for f in frames)
    baseline = sum(bool(faces(f, DetectParams(verify=False))) for f in frames)
    assert with_face <= baseline + (1 if textured else 0)
