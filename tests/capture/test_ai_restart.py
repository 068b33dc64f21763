"""The real AI server stopped mid-attempt and started again: answers, recordings and submit go on; the
pending frames and recording are analysed by the retry queue once it is back, with their original times."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.capture.helpers import (
    analysed_timeline,
    at_offset,
    parse,
    post_audio,
    post_frame,
    start_attempt,
    wait_for,
)
from tests.support.api import API
from tests.support.media import one_face, webm_speech


@pytest.fixture(scope="module")
def frame() -> bytes:
    return one_face("sad")


@pytest.fixture(scope="module")
def speech() -> bytes:
    return webm_speech("04", actor=4)


def test_ai_server_stopped_mid_attempt_then_back(client, people, ai_server, frame, speech):
    attempt = start_attempt(client, people, kind="oral")
    aid = attempt["id"]
    q1, q2 = (q["id"] for q in attempt["test"]["questions"])
    assert post_frame(client, people.student, aid, q1, at_offset(attempt, 1), frame).status_code == 202
    analysed_timeline(client, people.student, aid, 1)

    ai_server.stop()
    try:
        r = post_frame(client, people.student, aid, q1, at_offset(attempt, 4), frame)
        assert r.status_code == 202 and r.json()["status"] == "pending", r.text
        started = at_offset(attempt, 6)
        r = post_audio(client, people.student, aid, q2, started, speech)
        assert r.status_code == 202 and r.json()["status"] == "pending", r.text
        got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
        assert {a["question_id"]: a["has_recording"] for a in got["answers"]} == {q2: True}
        charts = client.get(f"{API}/attempts/{aid}/charts", headers=people.student).json()
        assert charts["missing"]["face"]["pending"] == 1 and charts["missing"]["voice"]["pending"] == 1
        r = client.post(f"{API}/attempts/{aid}/submit", headers=people.student)
        assert r.status_code == 200 and r.json()["submitted_at"]
    finally:
        ai_server.start()

    def analysed():
        samples = client.get(f"{API}/attempts/{aid}/emotions", headers=people.teacher).json()
        return all(s["status"] in ("ok", "uncertain") for s in samples) and samples

    samples = wait_for(analysed, timeout=120)
    face = [s for s in samples if s["modality"] == "face"]
    voice = [s for s in samples if s["modality"] == "voice"]
    assert [(parse(s["captured_at"]), s["faces"]) for s in face] == [
        (at_offset(attempt, 1), 1),
        (at_offset(attempt, 4), 1),
    ]
    assert voice and all(s["question_id"] == q2 and s["emotion"] for s in voice)
    for s in voice:
        assert (parse(s["captured_at"]) - started).total_seconds() == pytest.approx(
            s["segment_start_s"], abs=0.002
        )
    charts = client.get(f"{API}/attempts/{aid}/charts", headers=people.teacher).json()
    for modality in ("face", "voice"):  # analysed (some may be uncertain), nothing waiting or given up
        assert charts["missing"][modality]["pending"] == charts["missing"][modality]["unanalysed"] == 0
    media = Path(client.app.state.settings.MEDIA_DIR)
    assert list(media.rglob("*.jpg")) == []  # the queued frame went once analysed
    assert [p.read_bytes() for p in media.rglob("*.webm")] == [speech]
