"""Past capacity: many students send frames at once into a small queue and a small database pool. Every upload
is answered quickly and honestly: 202 (kept and queued) or 503 with Retry-After (not stored: the browser
skips frames), never a 500; every acknowledged frame is analysed, nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.capture.conftest import FAST_RETRY
from tests.capture.helpers import analysed_timeline, at_offset, post_audio, post_frame, start_attempt
from tests.conftest import make_test_settings
from tests.support.api import create_user_in_db, login
from tests.support.media import one_face, webm_speech
from web_server.main import create_app

STUDENTS, FRAMES = 6, 10


def test_past_capacity_frames_are_queued_or_refused_honestly_and_none_is_lost(
    database_url, tmp_path, people, client, ai_server
):
    for worker in client.app.state.analysis_workers:  # the small app below is the only one analysing
        client.portal.call(worker.stop)
    small = make_test_settings(
        database_url,
        tmp_path,
        AI_SERVER_URL=ai_server.url,
        **{
            **FAST_RETRY,
            "FRAME_MIN_INTERVAL_S": 0.0,
            "RETRY_QUEUE_MAX": 12,
            "RETRY_QUEUE_PER_ATTEMPT": 100,
            "ANALYSIS_BATCH_MAX": 4,
            "DB_POOL_SIZE": 2,
            "DB_MAX_OVERFLOW": 1,
            "DB_POOL_TIMEOUT_S": 2.0,
        },
    )
    with Session(client.app.state.engine) as session:
        for i in range(STUDENTS):
            create_user_in_db(session, small, f"crowd{i}", "student")
    students = [login(client, f"crowd{i}") for i in range(STUDENTS)]
    attempts = []
    for who in students:
        people.crowd = who  # start_attempt reads the student's headers from `people`
        attempts.append(start_attempt(client, people, student="crowd"))
    frame = one_face("happy")

    with TestClient(create_app(small)) as app:

        def send(job: tuple[int, int]):
            s, i = job
            attempt = attempts[s]
            q1 = attempt["test"]["questions"][0]["id"]
            return s, post_frame(app, students[s], attempt["id"], q1, at_offset(attempt, 0.5 * i), frame)

        jobs = [(s, i) for i in range(FRAMES) for s in range(STUDENTS)]
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(send, jobs))

        codes = [r.status_code for _, r in answers]
        assert set(codes) <= {202, 503}, sorted(set(codes))
        refused = [r for _, r in answers if r.status_code == 503]
        assert refused, "the queue of 12 should have overflowed"
        assert all(int(r.headers["Retry-After"]) > 0 and r.json()["detail"] for r in refused)
        acknowledged = {s: 0 for s in range(STUDENTS)}
        for s, r in answers:
            if r.status_code == 202:
                assert r.json()["status"] == "pending", r.text
                acknowledged[s] += 1
        for s, attempt in enumerate(attempts):
            timeline = analysed_timeline(app, students[s], attempt["id"], acknowledged[s])
            assert len(timeline) == acknowledged[s]
            assert all(x["status"] in ("ok", "uncertain") and x["faces"] == 1 for x in timeline)


def test_a_saturated_web_process_turns_frames_away_at_once(client, people):
    """With UPLOADS_IN_FLIGHT_MAX uploads in progress in this process, a frame gets 503 at once (not a wait
    for a database connection); a recording, the answer, is still taken."""
    attempt = start_attempt(client, people, kind="oral")
    q1 = attempt["test"]["questions"][0]["id"]
    client.app.state.uploads_in_flight = client.app.state.settings.UPLOADS_IN_FLIGHT_MAX
    try:
        r = post_frame(client, people.student, attempt["id"], q1, at_offset(attempt, 1), one_face("happy"))
        assert r.status_code == 503 and r.headers["Retry-After"] == "2" and "not stored" in r.json()["detail"]
        r = post_audio(client, people.student, attempt["id"], q1, at_offset(attempt, 2), webm_speech("03", 1))
        assert r.status_code == 202 and r.json()["status"] == "pending"
    finally:
        client.app.state.uploads_in_flight = 0
