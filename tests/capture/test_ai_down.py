"""The AI server down (nothing listening) or hanging: the quiz goes on, media are kept, queued, then marked
unanalysed; a full queue; deleting a student removes their samples and files."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.capture.helpers import at_offset, post_audio, post_frame, start_attempt, wait_for
from tests.capture.media import one_face, webm_speech
from tests.conftest import make_test_settings
from tests.support.api import API
from web_server.core.config import Settings
from web_server.main import create_app


@pytest.fixture
def settings(database_url: str, tmp_path, dead_ai_url: str) -> Settings:
    return make_test_settings(
        database_url,
        tmp_path,
        AI_SERVER_URL=dead_ai_url,
        AI_BREAKER_S=0.0,
        RETRY_QUEUE_MAX=2,
        RETRY_MAX_ATTEMPTS=2,
        RETRY_BACKOFF_S=1.0,
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
    assert [r.status_code for r in statuses] == [202, 202, 202]
    assert [r.json()["status"] for r in statuses] == ["pending", "pending", "unanalysed"]  # queue of 2
    assert "unavailable" in statuses[0].json()["message"] or "reached" in statuses[0].json()["message"]

    r = post_audio(client, people.student, aid, q2, at_offset(attempt, 8), speech)
    assert r.status_code == 202 and r.json()["status"] == "unanalysed"  # queue full, but the answer is kept
    got = client.get(f"{API}/attempts/{aid}", headers=people.student).json()
    assert {a["question_id"]: a["has_recording"] for a in got["answers"]} == {q2: True}
    [recording] = _media_files(client, "*.webm")
    assert recording.read_bytes() == speech

    charts = client.get(f"{API}/attempts/{aid}/charts", headers=people.teacher).json()
    assert charts["missing"] == {
        "face": {"pending": 2, "unanalysed": 1, "uncertain": 0},
        "voice": {"pending": 0, "unanalysed": 1, "uncertain": 0},
    }
    assert len(_media_files(client, "*.jpg")) == 2  # the queued frames wait on disk

    r = client.post(f"{API}/attempts/{aid}/submit", headers=people.student)
    assert r.status_code == 200 and r.json()["submitted_at"]

    def all_given_up():
        c = client.get(f"{API}/attempts/{aid}/charts", headers=people.teacher).json()
        return c["missing"]["face"] == {"pending": 0, "unanalysed": 3, "uncertain": 0} and c

    charts = wait_for(all_given_up, timeout=30)
    assert charts["missing"]["voice"] == {"pending": 0, "unanalysed": 1, "uncertain": 0}
    timeline = client.get(f"{API}/attempts/{aid}/emotions", headers=people.student).json()
    assert [(s["modality"], s["status"], s["question_id"]) for s in timeline] == [
        ("face", "unanalysed", q1),
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
    slow = make_test_settings(
        database_url, tmp_path, AI_SERVER_URL=hanging_ai_url, AI_TIMEOUT_S=0.5, AI_BREAKER_S=30.0
    )
    with TestClient(create_app(slow)) as other:
        t = time.monotonic()
        r = post_frame(other, people.student, attempt["id"], q1, at_offset(attempt, 1), frame)
        first = time.monotonic() - t
        assert r.status_code == 202 and r.json()["status"] == "pending"
        assert "in time" in r.json()["message"]
        t = time.monotonic()
        r = post_frame(other, people.student, attempt["id"], q1, at_offset(attempt, 3), frame)
        assert r.status_code == 202 and time.monotonic() - t < 0.4  # breaker open: no second wait
    assert first < 2.0


def test_deleting_a_student_removes_samples_and_files(client, people, frame, speech):
    attempt = start_attempt(client, people, kind="oral")
    aid = attempt["id"]
    q1 = attempt["test"]["questions"][0]["id"]
    assert post_frame(client, people.student, aid, q1, at_offset(attempt, 1), frame).status_code == 202
    assert post_audio(client, people.student, aid, q1, at_offset(attempt, 2), speech).status_code == 202
    assert _media_files(client, "*.jpg") and _media_files(client, "*.webm")
    folder = Path(client.app.state.settings.MEDIA_DIR) / "attempts" / str(aid)
    assert folder.is_dir()

    r = client.delete(f"{API}/users/{people.ids['student']}", headers=people.admin)
    assert r.status_code == 204
    assert client.get(f"{API}/attempts/{aid}/emotions", headers=people.teacher).status_code == 404
    assert not folder.exists()
    assert _media_files(client, "*.*") == []
