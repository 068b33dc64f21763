"""Consent with the real AI server: what the student refused is never analysed; withdrawing consent deletes
the emotions already inferred (the recording stays as the answer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.capture.helpers import analysed_timeline, at_offset, post_audio, post_frame, start_attempt
from tests.support.api import API
from tests.support.media import one_face, webm_speech


@pytest.fixture(scope="module")
def speech() -> bytes:
    return webm_speech("05", actor=2)


def test_refused_then_given_then_withdrawn(client, people, speech):
    attempt = start_attempt(client, people, kind="oral", consent={"camera": False, "microphone": False})
    aid = attempt["id"]
    q1, q2 = (q["id"] for q in attempt["test"]["questions"])
    frame = one_face("happy")

    r = post_frame(client, people.student, aid, q1, at_offset(attempt, 1), frame)
    assert r.status_code == 403 and "camera" in r.json()["detail"]
    r = post_audio(client, people.student, aid, q1, at_offset(attempt, 2), speech)
    assert r.status_code == 200 and r.json()["status"] == "saved" and r.json()["samples"] == []
    assert client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json() == []

    r = client.put(
        f"{API}/attempts/{aid}/consent", headers=people.student, json={"camera": True, "microphone": True}
    )
    assert r.status_code == 200
    r = post_frame(client, people.student, aid, q1, at_offset(attempt, 3), frame)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    r = post_audio(client, people.student, aid, q2, at_offset(attempt, 4), speech)
    assert r.status_code == 202 and r.json()["status"] == "pending" and r.json()["samples"]
    timeline = analysed_timeline(client, people.student, aid, 2)
    assert {s["modality"] for s in timeline} == {"face", "voice"}
    assert all(s["status"] in ("ok", "uncertain") for s in timeline)

    client.put(f"{API}/attempts/{aid}/consent", headers=people.student, json={"microphone": False})
    timeline = client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json()
    assert {s["modality"] for s in timeline} == {"face"}
    client.put(f"{API}/attempts/{aid}/consent", headers=people.student, json={"camera": False})
    assert client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json() == []
    charts = client.get(f"{API}/attempts/{aid}/charts", headers=people.student).json()
    assert charts["pie"] == {"face": [], "voice": []} and charts["fused"] == []
    # both recordings stay as the answers
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert {a["question_id"]: a["has_recording"] for a in got["answers"]} == {q1: True, q2: True}
    assert len(list(Path(client.app.state.settings.MEDIA_DIR).rglob("*.webm"))) == 2
