"""``POST /v1/face/batch`` over real HTTP: many textured webcam frames in one request, hints (the region
search), per-frame errors, the same per-face fields as ``POST /v1/face``, and the per-stage ``/metrics``."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.ai.conftest import post_face
from tests.ai.test_face import check_face
from tests.support.frames import empty_frame, iou, single_person_frames

FRAMES = single_person_frames(24, seed=11)


def post_batch(client: httpx.Client, frames: list[bytes], hints: list | None = None) -> httpx.Response:
    files = [("images", (f"f{i}.jpg", data, "image/jpeg")) for i, data in enumerate(frames)]
    data = {"hints": json.dumps(hints)} if hints is not None else None
    return client.post("/v1/face/batch", files=files, data=data)


@pytest.fixture(scope="module")
def alone(ai_client: httpx.Client) -> list[dict]:
    """Each frame through POST /v1/face on its own (whole-frame search)."""
    return [post_face(ai_client, f.jpeg()).json() for f in FRAMES]


def test_a_batch_gives_what_single_requests_give(ai_client: httpx.Client, alone: list[dict]) -> None:
    r = post_batch(ai_client, [f.jpeg() for f in FRAMES])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"].startswith("fer-") and len(body["results"]) == len(FRAMES)
    assert set(body["timings_ms"]) == {"decode", "detect", "preprocess", "model"}
    for result, single in zip(body["results"], alone, strict=True):
        assert result["error"] is None and result["roi"] is False  # no hint: the whole frame
        for face in result["faces"]:
            check_face(face)
        assert [f["box"] for f in result["faces"]] == [f["box"] for f in single["faces"]]
        assert [f["emotion"] for f in result["faces"]] == [f["emotion"] for f in single["faces"]]


def test_hints_find_the_same_faces_near_the_last_box(ai_client: httpx.Client, alone: list[dict]) -> None:
    """The hint is where the face was a frame ago (shifted by 12 px): found there, at the same place as the
    whole-frame search finds it, with the same emotion for nearly all frames."""
    hints = [[x + 12, y - 8, w, h] for (x, y, w, h) in (f.boxes[0] for f in FRAMES)]
    body = post_batch(ai_client, [f.jpeg() for f in FRAMES], hints).json()
    both = same_emotion = near = 0
    for result, single, frame in zip(body["results"], alone, FRAMES, strict=True):
        if result["roi"]:
            near += 1
            [face] = result["faces"]
            check_face(face)
            assert iou(face["box"], frame.boxes[0]) > 0.5
            if single["faces"]:
                both += 1
                assert iou(face["box"], single["faces"][0]["box"]) > 0.6
                same_emotion += face["emotion"] == single["faces"][0]["emotion"]
        else:  # not found near the hint: the whole frame was searched, as without a hint
            assert [f["box"] for f in result["faces"]] == [f["box"] for f in single["faces"]]
    assert near >= 0.8 * len(FRAMES), f"only {near} of {len(FRAMES)} faces found near their hint"
    assert same_emotion >= both - 3, f"{same_emotion} of {both} frames kept their emotion"


def test_a_wrong_hint_falls_back_to_the_whole_frame(ai_client: httpx.Client, alone: list[dict]) -> None:
    frames = FRAMES[:6]
    far = [
        [0 if x > 320 else 500, 0 if y > 240 else 350, 120, 120]
        for (x, y, _, _) in (f.boxes[0] for f in frames)
    ]
    body = post_batch(ai_client, [f.jpeg() for f in frames], far).json()
    for result, single in zip(body["results"], alone[:6], strict=True):
        assert result["roi"] is False
        assert [f["box"] for f in result["faces"]] == [f["box"] for f in single["faces"]]
    empty = post_batch(ai_client, [empty_frame(0, seed=11).jpeg()], [[200, 100, 160, 160]]).json()
    assert empty["results"][0]["roi"] is False


def test_a_bad_frame_does_not_spoil_the_batch(ai_client: httpx.Client) -> None:
    good = FRAMES[0].jpeg()
    body = post_batch(
        ai_client, [good, b"not an image", good[: len(good) // 2], good], [None, None, None, [1, 2, 3]]
    ).json()
    statuses = [(r["error"] or {}).get("status") for r in body["results"]]
    assert statuses == [None, 415, 415, None]
    assert "image" in body["results"][1]["error"]["detail"].lower()
    assert body["results"][0]["faces"] == body["results"][3]["faces"]  # a useless hint is ignored


def test_bad_hints_and_too_many_images_are_refused(ai_client: httpx.Client) -> None:
    good = FRAMES[0].jpeg()
    r = post_batch(ai_client, [good, good], [None])
    assert r.status_code == 422 and "one per image" in r.json()["detail"] and r.json()["errors"] == []
    r = ai_client.post(
        "/v1/face/batch", files=[("images", ("a.jpg", good, "image/jpeg"))], data={"hints": "{"}
    )
    assert r.status_code == 422 and "JSON" in r.json()["detail"] and r.json()["errors"] == []
    r = ai_client.post("/v1/face/batch")
    assert r.status_code == 422 and "images" in r.json()["detail"]
    assert [e["loc"] for e in r.json()["errors"]] == [["body", "images"]]


def test_metrics_show_the_time_of_each_stage(ai_client: httpx.Client) -> None:
    post_batch(ai_client, [f.jpeg() for f in FRAMES[:4]], [list(f.boxes[0]) for f in FRAMES[:4]])
    text = ai_client.get("/metrics").text
    for stage in ("decode", "detect", "preprocess", "model"):
        assert f'fasel_ai_stage_seconds_count{{stage="{stage}"}}' in text
    assert 'fasel_ai_face_search_total{result="hit"}' in text
    assert "fasel_ai_batch_images_count" in text
