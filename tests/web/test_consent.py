"""Consent per modality and per attempt, enforced by the web server (the AI server is down here: media the
student allowed are queued, so what reaches the analysis is visible in the database without a model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.support.api import API
from tests.web.trust_support import (
    add_samples,
    dead_ai_settings,
    new_test,
    post_audio,
    post_frame,
    start,
)
from web_server.core.config import Settings
from web_server.models.emotion import CaptureMedia, EmotionSample


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="individual")


def _media(client, attempt_id: int) -> list[CaptureMedia]:
    with Session(client.app.state.engine) as session:
        return list(session.exec(select(CaptureMedia).where(CaptureMedia.attempt_id == attempt_id)).all())


def _samples(client, attempt_id: int) -> list[EmotionSample]:
    with Session(client.app.state.engine) as session:
        return list(session.exec(select(EmotionSample).where(EmotionSample.attempt_id == attempt_id)).all())


def _queued_frames(client) -> int:
    """Frames waiting for analysis: in the database (`capture_media.data`), not on disk."""
    with Session(client.app.state.engine) as session:
        return len(session.exec(select(CaptureMedia).where(CaptureMedia.data.is_not(None))).all())


def _files(client, pattern: str) -> list[Path]:
    return list(Path(client.app.state.settings.MEDIA_DIR).rglob(pattern))


@pytest.mark.parametrize("consent", [None, {}, {"camera": False, "microphone": True}, {"camera": None}])
def test_frames_without_camera_consent_are_refused(client, people, consent):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, consent)
    r = post_frame(client, people.student, attempt)
    assert r.status_code == 403
    assert "not allowed the camera" in r.json()["detail"] and "works without it" in r.json()["detail"]
    assert _media(client, attempt["id"]) == [] and _samples(client, attempt["id"]) == []
    assert _files(client, "*.jpg") == []


def test_frames_with_camera_consent_reach_the_analysis(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True})
    r = post_frame(client, people.student, attempt)
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    assert "will be analysed" in r.json()["message"]
    assert [m.modality for m in _media(client, attempt["id"])] == ["face"]


def test_recordings_without_voice_consent_are_answers_never_analysed(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True, "microphone": False})
    q1, q2 = attempt["questions"]
    r = post_audio(client, people.student, attempt, q1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "saved" and body["samples"] == []
    assert "saved" in body["message"] and "not analysed" in body["message"]
    got = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert {a["question_id"]: a["has_recording"] for a in got["answers"]} == {q1: True}
    [media] = _media(client, attempt["id"])
    assert media.status == "kept" and media.next_try_at is None  # never queued for the AI server
    assert _samples(client, attempt["id"]) == []
    assert len(_files(client, "*.webm")) == 1

    # null (never told) counts as no as well
    other = start(client, people.student2, test, {"camera": True})
    assert other["microphone"] is None
    assert post_audio(client, people.student2, other).json()["status"] == "saved"

    # with consent, the same upload goes to the analysis (here: queued, the AI server is down)
    r = client.put(
        f"{API}/attempts/{attempt['id']}/consent", headers=people.student, json={"microphone": True}
    )
    assert r.status_code == 200 and r.json()["microphone"] is True
    r = post_audio(client, people.student, attempt, q2)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert "your answer is saved" in r.json()["message"]


def test_withdrawing_consent_deletes_what_was_analysed_under_it(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True, "microphone": True})
    aid = attempt["id"]
    other = start(client, people.student2, test, {"camera": True, "microphone": True})
    for who, att in ((people.student, attempt), (people.student2, other)):
        assert post_frame(client, who, att).status_code == 202
        assert post_audio(client, who, att).status_code == 202
    add_samples(client.app.state.engine, attempt, ["happy", "sad"], "face")
    add_samples(client.app.state.engine, attempt, ["calm"], "voice")
    assert _queued_frames(client) == 2 and len(_files(client, "*.webm")) == 2

    r = client.put(f"{API}/attempts/{aid}/consent", headers=people.student, json={"camera": False})
    assert r.status_code == 200, r.text
    assert (r.json()["camera"], r.json()["microphone"]) == (False, True)
    assert {s.modality for s in _samples(client, aid)} == {"voice"}  # every face sample is gone
    assert [m.modality for m in _media(client, aid)] == ["voice"]  # the queued frame too
    assert _queued_frames(client) == 1  # only the other student's frame is left
    assert post_frame(client, people.student, attempt).status_code == 403

    r = client.put(f"{API}/attempts/{aid}/consent", headers=people.student, json={"microphone": False})
    assert r.status_code == 200
    assert _samples(client, aid) == []
    [recording] = _media(client, aid)
    assert recording.status == "kept" and recording.path  # the answer stays, off the retry queue
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert [a["has_recording"] for a in got["answers"]] == [True]
    assert len(_files(client, "*.webm")) == 2
    # the other student's data is untouched
    assert len(_samples(client, other["id"])) == 2 and len(_media(client, other["id"])) == 2

    history = client.get(f"{API}/attempts/{aid}/consent", headers=people.student).json()
    assert [(e["modality"], e["value"]) for e in history] == [
        ("camera", True),
        ("microphone", True),
        ("camera", False),
        ("microphone", False),
    ]


def test_who_may_change_consent_and_when(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True})
    aid = attempt["id"]
    url = f"{API}/attempts/{aid}/consent"
    assert client.put(url, headers=people.student2, json={"camera": False}).status_code == 404
    assert client.put(url, headers=people.teacher, json={"camera": False}).status_code == 403
    assert client.put(url, json={"camera": False}).status_code == 401
    assert client.put(url, headers=people.student, json={"camera": "maybe"}).status_code == 422
    # resuming with other values is a change of consent too (history, and deletion on withdrawal)
    assert post_frame(client, people.student, attempt).status_code == 202
    again = start(client, people.student, test, {"camera": False})
    assert again["camera"] is False and _media(client, aid) == []
    assert client.put(url, headers=people.student, json={"camera": True}).json()["camera"] is True

    assert client.post(f"{API}/attempts/{aid}/submit", headers=people.student).status_code == 200
    r = client.put(url, headers=people.student, json={"microphone": True})
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    r = client.put(url, headers=people.student, json={"camera": False})  # withdrawing is always possible
    assert r.status_code == 200 and r.json()["camera"] is False
    history = client.get(url, headers=people.teacher).json()
    assert [(e["modality"], e["value"]) for e in history] == [
        ("camera", True),
        ("camera", False),
        ("camera", True),
        ("camera", False),
    ]
    assert client.get(url, headers=people.student2).status_code == 404
