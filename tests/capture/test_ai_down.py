"""The AI server down (nothing listening) or hanging: the quiz goes on, media are kept, queued, tried by the
analysis workers, then marked unanalysed; a full queue (frames refused with 503 and Retry-After, recordings
kept as answers); deleting a student removes their samples and files."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from tests.capture.helpers import at_offset, post_audio, post_frame, start_attempt, wait_for
from tests.conftest import make_test_settings
from tests.support.api import API
from tests.support.media import one_face, webm_speech
from web_server.core.config import Settings
from web_server.main import create_app
from web_server.models.emotion import CaptureMedia


@pytest.fixture
def settings(database_url: str, tmp_path, dead_ai_url: str) -> Settings:
    return make_test_settings(
        database_url,
        tmp_path,
        AI_SERVER_URL=dead_ai_url,
        AI_BREAKER_S=0.0,
        RETRY_QUEUE_MAX=2,
        RETRY_MAX_ATTEMPTS=2,
        RETRY_BACKOFF_S=4.0,  # the workers' first try fails at once, the second (the last) 4 s later
        RETRY_POLL_S=0.1,
        MEDIA_SWEEP_INTERVAL_S=3600.0,  # deletions must not wait for the sweep
    )


@pytest.fixture(scope="module")
def frame() -> bytes:
    return one_face("happy")


@pytest.fixture(scope="module")
def speech() -> bytes:
    return webm_speech("03", actor=3)


def _media_files(client: TestClient, pattern: str) -> list[Path]:
    return list(Path(client.app.state.settings.MEDIA_DIR).rglob(pattern))


def test_ai_down_queue_then_unanalysed_and_nothing_lost(client, people, frame, speech):
    attempt = start_attempt(client, people, kind="oral")
    aid = attempt["id"]
    q1, q2 = (q["id"] for q in attempt["test"]["questions"])

    started = time.monotonic()
    statuses = [post_frame(client, people.student, aid, q1, at_offset(attempt, s), frame) for s in (1, 3, 5)]
    assert time.monotonic() - started < 3.0  # the quiz is not held up
    assert [r.status_code for r in statuses] == [202, 202, 503]  # a queue of 2: then backpressure
    assert [r.json()["status"] for r in statuses[:2]] == ["pending", "pending"]
    assert all("kept and queued" in r.json()["message"] for r in statuses[:2])
    assert "queue is full" in statuses[2].json()["detail"] and int(statuses[2].headers["Retry-After"]) > 0

    r = post_audio(client, people.student, aid, q2, at_offset(attempt, 8), speech)
    assert r.status_code == 202 and r.json()["status"] == "unanalysed"  # queue full, but the answer is kept
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert {a["question_id"]: a["has_recording"] for a in got["answers"]} == {q2: True}
    [recording] = _media_files(client, "*.webm")
    assert recording.read_bytes() == speech

    charts = client.get(f"{API}/attempts/{aid}/charts", headers=people.teacher).json()
    assert charts["missing"] == {
        "face": {"pending": 2, "unanalysed": 0, "uncertain": 0},
        "voice": {"pending": 0, "unanalysed": 1, "uncertain": 0},
    }
    with Session(client.app.state.engine) as session:  # the queued frames wait in the database
        waiting = session.exec(select(CaptureMedia).where(col(CaptureMedia.data).is_not(None))).all()
        assert sorted(m.data for m in waiting) == [frame, frame] and _media_files(client, "*.jpg") == []
    # the workers tried and failed: later uploads are told that the analysis is delayed, and why
    failure = wait_for(lambda: client.app.state.analysis_health.failure, timeout=10)
    assert "cannot be reached" in failure

    r = client.post(f"{API}/attempts/{aid}/submit", headers=people.student)
    assert r.status_code == 200 and r.json()["submitted_at"]

    def all_given_up():
        c = client.get(f"{API}/attempts/{aid}/charts", headers=people.teacher).json()
        return c["missing"]["face"] == {"pending": 0, "unanalysed": 2, "uncertain": 0} and c

    charts = wait_for(all_given_up, timeout=30)
    assert charts["missing"]["voice"] == {"pending": 0, "unanalysed": 1, "uncertain": 0}
    timeline = client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json()
    assert [(s["modality"], s["status"], s["question_id"]) for s in timeline] == [
        ("face", "unanalysed", q1),
        ("face", "unanalysed", q1),
        ("voice", "unanalysed", q2),
    ]
    assert _media_files(client, "*.jpg") == []  # frames are not kept once given up
    assert _media_files(client, "*.webm") == [recording]  # the oral answer stays


@pytest.fixture
def hanging_ai_url() -> Iterator[str]:
    """A server that accepts connections and never answers: the AI server is stuck."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_slow_ai_server_times_out_quickly(database_url, tmp_path, people, client, hanging_ai_url, frame):
    attempt = start_attempt(client, people)
    q1 = attempt["test"]["questions"][0]["id"]
    for worker in client.app.state.analysis_workers:  # only the slow app's worker analyses here
        client.portal.call(worker.stop)
    slow = make_test_settings(
        database_url, tmp_path, AI_SERVER_URL=hanging_ai_url, AI_TIMEOUT_S=0.5, AI_BREAKER_S=30.0
    )
    with TestClient(create_app(slow)) as other:
        t = time.monotonic()
        r = post_frame(other, people.student, attempt["id"], q1, at_offset(attempt, 1), frame)
        assert r.status_code == 202 and r.json()["status"] == "pending"
        assert time.monotonic() - t < 2.0  # accepted at once, whatever the AI server does
        # the worker's call times out after AI_TIMEOUT_S; the next upload says the analysis is delayed
        wait_for(lambda: other.app.state.analysis_health.failure, timeout=10)
        t = time.monotonic()
        r = post_frame(other, people.student, attempt["id"], q1, at_offset(attempt, 3), frame)
        assert r.status_code == 202 and time.monotonic() - t < 2.0
        body = r.json()
        assert body["status"] == "pending" and body["delayed"] is True
        assert "in time" in body["message"] and "kept and queued" in body["message"]


def test_deleting_a_student_removes_samples_and_files(client, people, frame, speech):
    attempt = start_attempt(client, people, kind="oral")
    aid = attempt["id"]
    q1 = attempt["test"]["questions"][0]["id"]
    assert post_frame(client, people.student, aid, q1, at_offset(attempt, 1), frame).status_code == 202
    assert post_audio(client, people.student, aid, q1, at_offset(attempt, 2), speech).status_code == 202
    assert _media_files(client, "*.webm")  # the frame waits in the database
    folder = Path(client.app.state.settings.MEDIA_DIR) / "attempts" / str(aid)
    assert folder.is_dir()

    r = client.delete(f"{API}/users/{people.ids['student']}", headers=people.admin)
    assert r.status_code == 204
    assert client.get(f"{API}/attempts/{aid}/emotions", headers=people.teacher).status_code == 404
    assert not folder.exists()
    assert _media_files(client, "*.*") == []
