"""The web server's AI client over several AI servers: round-robin, and an unavailable one is skipped; its
answers are parsed into the AI server's models (`ai_server.schemas`): a malformed one is the AI server failing
(AIUnavailable), an error body's sentence becomes the error's message."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ai_server.schemas import FrameResult, VoiceAnswer
from web_server.ai_client import AIClient, AIRejected, AIUnavailable


def run(coro):
    """Run a coroutine on a fresh event loop in its own thread (the test session may hold a running loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def client_for(handler) -> AIClient:
    return AIClient(
        "http://ai-a:8001, http://ai-b:8001/", timeout_s=1.0, transport=httpx.MockTransport(handler)
    )


EMPTY_FRAME = {"faces": [], "roi": False, "error": None}
TIMINGS = {"decode": 1.0, "detect": 2.0, "preprocess": 0.1, "model": 3.0}


def batch_answer(request: httpx.Request) -> httpx.Response:
    n = request.content.count(b'name="images"')
    body = {"model": "fer-1.3.0", "results": [EMPTY_FRAME] * n, "timings_ms": TIMINGS, "elapsed_ms": 7.0}
    return httpx.Response(200, json=body)


def test_requests_alternate_between_ai_servers():
    hosts = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return batch_answer(request)

    ai = client_for(handler)
    assert ai.urls == ["http://ai-a:8001", "http://ai-b:8001"]
    for _ in range(4):
        assert len(run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", None)] * 2))) == 2
    assert hosts == ["ai-a", "ai-b", "ai-a", "ai-b"]


def test_an_ai_server_that_is_down_is_skipped():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "ai-a":
            raise httpx.ConnectError("refused", request=request)
        return batch_answer(request)

    ai = client_for(handler)
    for _ in range(3):  # whichever comes first, the answer comes from ai-b
        assert run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", [1, 2, 3, 4])])) == [
            FrameResult(faces=[], roi=False, error=None)
        ]

    def all_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"detail": "The AI models are still loading.", "errors": []})

    with pytest.raises(AIUnavailable, match="503"):
        run(client_for(all_down).face_batch([(b"\xff\xd8\xff", "image/jpeg", None)]))


PREDICTION = {
    "emotion": "sad",
    "confidence": 0.7,
    "scores": {"sad": 0.7, "happy": 0.3},
    "uncertain": False,
    "uncertain_reason": None,
}


def test_answers_are_parsed_into_the_ai_servers_models():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/voice":
            segment = {"start_s": 0.1, "end_s": 2.1, **PREDICTION}
            body = {"model": "ser-2.0.0", "duration_s": 2.5, "segments": [segment], "overall": PREDICTION}
            return httpx.Response(200, json={**body, "elapsed_ms": 40.0})
        frames = [
            {"faces": [{"box": [5, 6, 70, 80], **PREDICTION}], "roi": True, "error": None},
            {"faces": [], "roi": False, "error": {"status": 415, "detail": "The upload is not an image."}},
        ]
        body = {"model": "fer-1.3.0", "results": frames, "timings_ms": TIMINGS, "elapsed_ms": 9.0}
        return httpx.Response(200, json=body)

    ai = client_for(handler)
    found, refused = run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", None)] * 2))
    assert found.roi and found.faces[0].box == [5, 6, 70, 80] and found.faces[0].emotion == "sad"
    assert refused.error is not None and refused.error.status == 415 and refused.faces == []
    voice = run(ai.voice(b"RIFF", "a.wav", "audio/wav"))
    assert isinstance(voice, VoiceAnswer)
    assert (
        voice.segments[0].end_s == 2.1 and voice.overall is not None and voice.overall.scores["happy"] == 0.3
    )
    assert voice.note is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"results": [EMPTY_FRAME]}, ["batch", "malformed", "model"]),  # the old answer, without its model
        ({"model": "fer", "results": [{"faces": "none"}], "timings_ms": TIMINGS, "elapsed_ms": 1}, ["faces"]),
        ([EMPTY_FRAME], ["batch", "malformed"]),
    ],
    ids=["missing-fields", "faces-not-a-list", "a-list"],
)
def test_a_malformed_answer_is_the_ai_server_failing(body, words):
    ai = client_for(lambda request: httpx.Response(200, json=body))
    with pytest.raises(AIUnavailable) as failed:
        run(ai.face_batch([(b"\xff\xd8\xff", "image/jpeg", None)]))
    for word in words:
        assert word in failed.value.message, failed.value.message


def test_a_voice_answer_without_segments_is_the_ai_server_failing():
    ai = client_for(lambda request: httpx.Response(200, json={"model": "ser", "overall": None}))
    with pytest.raises(AIUnavailable, match="voice answer is malformed.*segments"):
        run(ai.voice(b"RIFF", "a.wav", "audio/wav", fail_fast=False))


def test_a_refusal_carries_the_error_bodys_sentence():
    detail = "The upload is not a supported image; send JPEG, PNG or WebP."
    ai = client_for(lambda request: httpx.Response(415, json={"detail": detail, "errors": []}))
    with pytest.raises(AIRejected) as refused:
        run(ai.face(b"not an image", fail_fast=False))
    assert refused.value.status_code == 415 and refused.value.message == detail
