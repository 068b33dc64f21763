"""Security finding 5: one student cannot flood the shared retry queue, and nobody is told something untrue.
Frames are limited per attempt (429 with Retry-After) and each attempt has a bounded share of the queue."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.support.api import API
from tests.web.trust_support import dead_ai_settings, new_test, post_audio, post_frame, start
from web_server.main import create_app
from web_server.models.emotion import CaptureMedia

CONSENT = {"camera": True, "microphone": True}


@pytest.fixture(autouse=True)
def only_the_dead_ai_app_analyses(client):
    """The fixture app's own workers would claim (and settle) the queued media these tests count."""
    for worker in client.app.state.analysis_workers:
        client.portal.call(worker.stop)


def test_frames_are_limited_per_attempt_with_retry_after(database_url, tmp_path, client, people):
    limited = dead_ai_settings(database_url, tmp_path, FRAME_MIN_INTERVAL_S=1.0, FRAME_BURST=2)
    test = new_test(client, people.teacher)
    mine = start(client, people.student, test, CONSENT)
    theirs = start(client, people.student2, test, CONSENT)
    with TestClient(create_app(limited)) as app:
        statuses = [post_frame(app, people.student, mine) for _ in range(4)]
        assert [r.status_code for r in statuses[:2]] == [202, 202]  # the burst
        refused = [r for r in statuses[2:] if r.status_code == 429]
        assert refused, [r.status_code for r in statuses]
        r = refused[0]
        assert 1 <= int(r.headers["Retry-After"]) <= 2
        assert "at most one every 1 s" in r.json()["detail"] and "not stored" in r.json()["detail"]
        # another attempt has its own allowance; recordings are not rate limited
        assert post_frame(app, people.student2, theirs).status_code == 202
        assert post_audio(app, people.student, mine).status_code == 202
        time.sleep(int(r.headers["Retry-After"]))
        assert post_frame(app, people.student, mine).status_code == 202
        # the refused frames left nothing behind
        pending = client.get(f"{API}/charts", headers=people.student).json()[0]["samples"]["face"]
        assert pending["pending"] == 3 and pending["unanalysed"] == 0


def test_an_attempt_cannot_take_the_whole_queue_and_messages_tell_the_truth(
    database_url, tmp_path, client, people
):
    shared = dead_ai_settings(database_url, tmp_path, RETRY_QUEUE_MAX=5, RETRY_QUEUE_PER_ATTEMPT=2)
    test = new_test(client, people.teacher)
    greedy = start(client, people.student, test, CONSENT)
    other = start(client, people.student2, test, CONSENT)
    with TestClient(create_app(shared)) as app:
        results = [post_frame(app, people.student, greedy).json() for _ in range(4)]
        assert [r["status"] for r in results] == ["pending", "pending", "unanalysed", "unanalysed"]
        for r in results[:2]:
            assert "kept and queued" in r["message"] and "will be analysed" in r["message"]
        for r in results[2:]:
            assert "not kept and will not be analysed" in r["message"]
            assert "this attempt already has 2 frames waiting" in r["message"]
            assert "will be analysed" not in r["message"].replace("will not be analysed", "")
        # the other student's frame is still queued, and told so
        r = post_frame(app, people.student2, other).json()
        assert r["status"] == "pending" and "will be analysed" in r["message"]
        # a recording beyond the share is kept as the answer and the student is told it is not analysed
        assert post_audio(app, people.student, greedy).json()["status"] == "pending"
        assert post_audio(app, people.student, greedy).json()["status"] == "pending"
        r = post_audio(app, people.student, greedy)
        assert r.status_code == 202 and r.json()["status"] == "unanalysed"
        assert "Your answer is saved" in r.json()["message"] and "will not be analysed" in r.json()["message"]
        # when the whole queue is full, frames are refused (503, Retry-After: the browser skips frames) and
        # everybody is told the truth; a recording is still kept as the answer
        r = post_frame(app, people.student2, other)
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        assert "the waiting queue is full" in r.json()["detail"] and "not stored" in r.json()["detail"]
        r = post_audio(app, people.student2, other)
        assert r.status_code == 202 and r.json()["status"] == "unanalysed"
        assert (
            "the waiting queue is full" in r.json()["message"]
            and "Your answer is saved" in r.json()["message"]
        )
    with Session(app.app.state.engine) as session:  # only the queued frames are kept (in the database)
        kept = session.exec(select(CaptureMedia).where(CaptureMedia.data.is_not(None))).all()
        assert len(kept) == 3 and not list(Path(shared.MEDIA_DIR).rglob("*.jpg"))
