"""Frames and oral answers through the web server (queued, 202) and its analysis workers to the real AI
server; ownership; bad media; reading."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from tests.capture.helpers import (
    CONSENT,
    analysed_timeline,
    assert_queued,
    at_offset,
    parse,
    post_audio,
    post_frame,
    start_attempt,
)
from tests.support.api import API
from tests.support.media import no_face, one_face, three_faces, webm_speech
from web_server.services.fusion import FACE_LABELS, VOICE_LABELS


@pytest.fixture(scope="module")
def happy() -> bytes:
    return one_face("happy")


@pytest.fixture(scope="module")
def several() -> bytes:
    return three_faces()


@pytest.fixture(scope="module")
def speech() -> bytes:
    return webm_speech("05", actor=2)


def test_frames_become_face_samples_with_times_and_questions(client, people, happy, several):
    attempt = start_attempt(client, people)
    q1, q2, _ = (q["id"] for q in attempt["test"]["questions"])
    sent = [(3.2, q1, happy, 1), (14.5, q1, several, 3), (25.0, q2, no_face(), 0)]
    for offset, qid, jpeg, _ in sent:
        r = post_frame(client, people.student, attempt["id"], qid, at_offset(attempt, offset), jpeg)
        body = assert_queued(r)
        assert body["samples"][0]["question_id"] == qid and body["delayed"] is False

    timeline = analysed_timeline(client, people.student, attempt["id"], 3, modality="face")
    assert [(s["question_id"], s["faces"]) for s in timeline] == [(q1, 1), (q1, 3), (q2, 0)]
    for sample, (*_, n_faces) in zip(timeline, sent, strict=True):
        if n_faces:
            assert sample["emotion"] in FACE_LABELS and sample["status"] in ("ok", "uncertain")
            assert sample["confidence"] == pytest.approx(sample["scores"][sample["emotion"]])
            assert math.fsum(sample["scores"].values()) == pytest.approx(1.0, abs=0.01)
        else:
            assert sample["emotion"] is None and sample["scores"] is None
    for s, (offset, *_rest) in zip(timeline, sent, strict=True):
        assert abs((parse(s["captured_at"]) - at_offset(attempt, offset)).total_seconds()) < 0.002
    assert (
        client.get(
            f"{API}/attempts/{attempt['id']}/emotions", headers=people.student, params={"modality": "voice"}
        ).json()
        == []
    )

    charts = client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher).json()
    # charts count analysed emotions; a face the model is unsure of is counted apart as uncertain
    ok = [
        (offset, s)
        for s, (offset, *_r) in zip(timeline, sent, strict=True)
        if s["status"] == "ok" and s["emotion"]
    ]
    uncertain = sum(s["status"] == "uncertain" for s in timeline)
    assert ok and len(ok) + uncertain == 2  # the faceless frame at 25 s has no emotion
    buckets = sorted({int(offset // 10) for offset, _ in ok})
    bar = charts["bar"]["face"]
    assert [(b["start_s"], b["end_s"], b["total"]) for b in bar] == [
        (k * 10, k * 10 + 10, 1) for k in buckets
    ]
    assert sum(b["total"] for b in bar) == sum(p["count"] for p in charts["pie"]["face"]) == len(ok)
    assert charts["presence"] == {"none": 1, "one": 1, "several": 1}
    per_q = {p["question_id"]: p for p in charts["per_question"]["face"]}
    assert per_q[q1]["total"] == len(ok) and per_q[q2]["total"] == 0 and len(per_q) == 3
    assert sum(sum(p["counts"].values()) for p in per_q.values()) == len(ok)
    assert charts["missing"] == {
        "face": {"pending": 0, "unanalysed": 0, "uncertain": uncertain},
        "voice": {"pending": 0, "unanalysed": 0, "uncertain": 0},
    }
    assert [f["sources"] for f in charts["fused"]] == [["face"]] * len(buckets)
    assert charts["fused"][0]["emotion"] == ok[0][1]["emotion"]
    # raw frames are not kept by default
    assert not list(Path(client.app.state.settings.MEDIA_DIR).rglob("*.jpg"))


def test_audio_is_the_answer_and_gives_timed_voice_samples(client, people, happy, speech):
    attempt = start_attempt(client, people, kind="oral")
    q1, q2 = (q["id"] for q in attempt["test"]["questions"])
    started = at_offset(attempt, 12.0)
    r = post_audio(client, people.student, attempt["id"], q2, started, speech)
    assert_queued(r, "voice")
    voice = analysed_timeline(client, people.student, attempt["id"], 1, modality="voice")
    for s in voice:
        assert s["modality"] == "voice" and s["question_id"] == q2 and s["emotion"] in VOICE_LABELS
        assert 0 <= s["segment_start_s"] < s["segment_end_s"] <= 5.5
        delta = (parse(s["captured_at"]) - started).total_seconds()
        assert delta == pytest.approx(s["segment_start_s"], abs=0.002)
    # the recording is the answer to q2, on disk under MEDIA_DIR
    got = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    answers = {a["question_id"]: a for a in got["answers"]}
    assert answers[q2]["has_recording"] is True and q1 not in answers
    files = list(Path(client.app.state.settings.MEDIA_DIR).rglob("*.webm"))
    assert len(files) == 1 and files[0].read_bytes() == speech

    r = post_frame(client, people.student, attempt["id"], q2, at_offset(attempt, 13.0), happy)
    assert r.status_code == 202
    analysed_timeline(client, people.student, attempt["id"], len(voice) + 1)
    charts = client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.student).json()
    n_voice = sum(s["status"] == "ok" for s in voice)  # uncertain segments are counted apart, not as emotions
    assert n_voice and charts["missing"]["voice"]["uncertain"] == len(voice) - n_voice
    assert sum(b["total"] for b in charts["bar"]["voice"]) == n_voice
    assert sum(p["count"] for p in charts["pie"]["voice"]) == n_voice
    assert math.fsum(p["share"] for p in charts["pie"]["voice"]) == pytest.approx(1.0, abs=0.001)
    assert {p["question_id"]: p["total"] for p in charts["per_question"]["voice"]} == {q1: 0, q2: n_voice}
    fused = charts["fused"]
    assert fused[0]["start_s"] == 10 and fused[0]["sources"] == ["face", "voice"]
    for window in fused:
        assert math.fsum(window["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert window["emotion"] in VOICE_LABELS


def test_audio_only_for_oral_tests(client, people, speech):
    attempt = start_attempt(client, people)
    q1 = attempt["test"]["questions"][0]["id"]
    r = post_audio(client, people.student, attempt["id"], q1, at_offset(attempt, 1), speech)
    assert r.status_code == 422 and "oral" in r.json()["detail"]


def test_ownership_and_closed_attempts(client, people, happy):
    attempt = start_attempt(client, people)
    aid, q1 = attempt["id"], attempt["test"]["questions"][0]["id"]
    at = at_offset(attempt, 1)
    assert post_frame(client, people.student2, aid, q1, at, happy).status_code == 404
    assert post_frame(client, people.teacher, aid, q1, at, happy).status_code == 403
    assert post_frame(client, {}, aid, q1, at, happy).status_code == 401
    assert post_frame(client, people.student, 999999, q1, at, happy).status_code == 404
    other = start_attempt(client, people, student="student2")
    assert (
        post_frame(client, people.student, aid, other["test"]["questions"][0]["id"], at, happy).status_code
        == 404
    )
    assert post_frame(client, people.student, aid, q1, at, happy).status_code == 202
    analysed_timeline(client, people.student, aid, 1)

    for path in ("emotions", "charts"):
        assert client.get(f"{API}/attempts/{aid}/{path}", headers=people.student2).status_code == 404
        for who in (people.student, people.teacher2, people.admin):
            assert client.get(f"{API}/attempts/{aid}/{path}", headers=who).status_code == 200

    listed = client.get(f"{API}/charts", headers=people.student2).json()
    assert [c["attempt_id"] for c in listed] == [other["id"]]
    listed = client.get(f"{API}/charts", headers=people.teacher).json()
    assert [c["attempt_id"] for c in listed] == [other["id"], aid]  # newest first
    assert listed[1]["test_title"] == attempt["test"]["title"] and listed[1]["test_kind"] == "single_choice"
    assert listed[1]["samples"]["face"]["ok"] == 1
    by_student = client.get(
        f"{API}/charts", headers=people.teacher, params={"student_id": people.ids["student"]}
    )
    assert [c["attempt_id"] for c in by_student.json()] == [aid]
    by_test = client.get(f"{API}/charts", headers=people.admin, params={"test_id": other["test_id"]})
    assert [c["attempt_id"] for c in by_test.json()] == [other["id"]]

    assert client.get(f"{API}/tests/{attempt['test_id']}/report", headers=people.student).status_code == 403
    assert client.get(f"{API}/tests/999999/report", headers=people.teacher).status_code == 404

    r = client.post(f"{API}/attempts/{aid}/submit", headers=people.student)
    assert r.status_code == 200
    r = post_frame(client, people.student, aid, q1, at_offset(attempt, 2), happy)
    assert r.status_code == 409 and "submitted" in r.json()["detail"]


def test_bad_media_is_refused_with_a_message_and_nothing_is_lost(client, people, speech):
    attempt = start_attempt(client, people, kind="oral")
    aid, q1 = attempt["id"], attempt["test"]["questions"][0]["id"]
    at = at_offset(attempt, 1)
    assert post_audio(client, people.student, aid, q1, at, speech).status_code == 202
    analysed_timeline(client, people.student, aid, 1)

    r = post_frame(client, people.student, aid, q1, at, b"this is not a picture")
    assert r.status_code == 415 and "image" in r.json()["detail"].lower()
    r = post_audio(client, people.student, aid, q1, at, b"\x00\x01 not audio at all" * 10)
    assert r.status_code == 415 and "audio" in r.json()["detail"].lower()
    r = post_frame(client, people.student, aid, q1, at, b"")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = client.post(
        f"{API}/attempts/{aid}/frames",
        headers=people.student,
        files={"image": ("f.jpg", b"x", "image/jpeg")},
        data={"captured_at": "yesterday", "question_id": str(q1)},
    )
    assert r.status_code == 422 and "ISO 8601" in r.json()["detail"]
    r = client.post(f"{API}/attempts/{aid}/frames", headers=people.student, data={"captured_at": "x"})
    assert r.status_code == 422
    big = b"\xff" * (client.app.state.settings.MAX_IMAGE_BYTES + 1)
    assert post_frame(client, people.student, aid, q1, at, big).status_code == 413

    # bytes that look like a picture but cannot be decoded: accepted, then the AI server refuses them and
    # the frame is marked unanalysed (a gap, never an emotion)
    broken = b"\xff\xd8\xff\xe0 cut short" + b"\x00" * 64
    assert post_frame(client, people.student, aid, q1, at_offset(attempt, 5), broken).status_code == 202
    face = analysed_timeline(client, people.student, aid, 1, modality="face")
    assert [(s["status"], s["emotion"]) for s in face] == [("unanalysed", None)]

    # the first (good) recording is still the answer, with its samples; the bad uploads left nothing
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert [a["has_recording"] for a in got["answers"]] == [True]
    samples = client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json()
    assert samples and {s["modality"] for s in samples if s["status"] != "unanalysed"} == {"voice"}
    assert len(list(Path(client.app.state.settings.MEDIA_DIR).rglob("*.webm"))) == 1


def test_report_json_and_csv_add_up(client, people, happy, several, speech):
    attempt = start_attempt(client, people, kind="oral")
    test_id = attempt["test_id"]
    q1, q2 = (q["id"] for q in attempt["test"]["questions"])
    r2 = client.post(f"{API}/tests/{test_id}/attempts", headers=people.student2, json=CONSENT)
    other = r2.json()
    assert_queued(post_frame(client, people.student, attempt["id"], q1, at_offset(attempt, 1), happy))
    assert_queued(post_frame(client, people.student2, other["id"], q1, at_offset(attempt, 2), several))
    assert_queued(post_frame(client, people.student2, other["id"], q2, at_offset(attempt, 3), no_face()))
    assert_queued(
        post_audio(client, people.student, attempt["id"], q2, at_offset(attempt, 4), speech), "voice"
    )
    faces = analysed_timeline(client, people.student2, other["id"], 2)
    faces += analysed_timeline(client, people.student, attempt["id"], 1, modality="face")
    voice = analysed_timeline(client, people.student, attempt["id"], 2, modality="voice")
    n_face = sum(s["status"] == "ok" and s["emotion"] is not None for s in faces)  # uncertain: apart
    assert n_face and all(s["question_id"] == q1 for s in faces if s["emotion"])

    report = client.get(f"{API}/tests/{test_id}/report", headers=people.teacher).json()
    assert report["attempts"] == 2 and [q["question_id"] for q in report["questions"]] == [q1, q2]
    by_q = {q["question_id"]: q for q in report["questions"]}
    assert by_q[q1]["face"]["total"] == n_face and by_q[q2]["face"]["total"] == 0
    n_voice = sum(s["status"] == "ok" for s in voice)  # uncertain segments are not counted as emotions
    assert by_q[q2]["voice"]["total"] == n_voice and by_q[q1]["voice"]["total"] == 0
    assert report["overall"]["face"]["total"] == n_face and report["overall"]["voice"]["total"] == n_voice

    r = client.get(f"{API}/tests/{test_id}/report", headers=people.admin, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 3 + len(voice)  # every sample, the faceless frame included
    assert {row["student_username"] for row in rows} == {"student", "student2"}
    assert sorted(int(row["faces"]) for row in rows if row["modality"] == "face") == [0, 1, 3]
    assert (
        client.get(
            f"{API}/tests/{test_id}/report", headers=people.teacher, params={"format": "xml"}
        ).status_code
        == 422
    )


def test_store_raw_frames_and_recording_retention(client, people, happy, speech, database_url, tmp_path):
    from datetime import timedelta

    from fastapi.testclient import TestClient
    from sqlalchemy import update
    from sqlmodel import Session

    from tests.conftest import make_test_settings
    from web_server.capture.retention import sweep_media
    from web_server.main import create_app
    from web_server.models.base import utcnow
    from web_server.models.emotion import CaptureMedia

    attempt = start_attempt(client, people, kind="oral")
    aid, q1 = attempt["id"], attempt["test"]["questions"][0]["id"]
    base = client.app.state.settings
    keep = make_test_settings(
        database_url,
        tmp_path / "keep",
        AI_SERVER_URL=base.AI_SERVER_URL,
        AI_TIMEOUT_S=60.0,
        STORE_RAW_FRAMES=True,
        MEDIA_DIR=base.MEDIA_DIR,  # one media store for every process (either app's worker may analyse it)
    )
    with TestClient(create_app(keep)) as other:
        assert_queued(post_frame(other, people.student, aid, q1, at_offset(attempt, 1), happy))
        analysed_timeline(other, people.student, aid, 1)
    [kept] = list(Path(base.MEDIA_DIR).rglob("*.jpg"))
    assert kept.read_bytes() == happy

    assert post_audio(client, people.student, aid, q1, at_offset(attempt, 2), speech).status_code == 202
    analysed_timeline(client, people.student, aid, 2)
    [recording] = list(Path(base.MEDIA_DIR).rglob("*.webm"))
    engine = client.app.state.engine
    with Session(engine) as session:
        session.exec(
            update(CaptureMedia).values(
                created_at=utcnow() - timedelta(days=base.RECORDING_RETENTION_DAYS + 1)
            )
        )
        session.commit()
        assert sweep_media(session, base) == 2  # the recording and the kept frame
    assert not recording.exists()
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert [a["has_recording"] for a in got["answers"]] == [False]
    samples = client.get(f"{API}/attempts/{aid}/emotions", headers=people.teacher).json()
    assert {s["modality"] for s in samples} == {"face", "voice"}  # the emotions outlive the recording
