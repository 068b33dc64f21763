"""The analysis queue on both databases, without an AI server: concurrent workers never claim the same upload,
a claim is a lease, and a batch's outcomes are stored in one go (analysed, refused, retried with backoff,
given up after RETRY_MAX_ATTEMPTS, dropped when consent is no longer given when its result comes)."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from ai_server.schemas import FrameResult
from tests.web.trust_support import dead_ai_settings, new_test, post_frame, start
from web_server.capture.queue import Outcome, apply_outcomes, claim
from web_server.main import create_app
from web_server.models.attempt import Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample

CONSENT = {"camera": True, "microphone": True}
RESULT = FrameResult.model_validate(  # one frame's answer of the AI server's POST /v1/face/batch
    {
        "faces": [
            {
                "box": [10, 10, 100, 100],
                "emotion": "happy",
                "confidence": 0.9,
                "scores": {"happy": 0.9},
                "uncertain": False,
                "uncertain_reason": None,
            }
        ],
        "roi": False,
        "error": None,
    }
)


def queued(database_url, tmp_path, client, people, n: int, **overrides):
    """`n` frames of one attempt queued by an app without analysis workers (the test app's are stopped)."""
    for worker in client.app.state.analysis_workers:
        client.portal.call(worker.stop)
    settings = dead_ai_settings(
        database_url, tmp_path, ANALYSIS_WORKERS=0, RETRY_QUEUE_PER_ATTEMPT=100, **overrides
    )
    attempt = start(client, people.student, new_test(client, people.teacher), CONSENT)
    with TestClient(create_app(settings)) as app:
        for _ in range(n):
            assert post_frame(app, people.student, attempt).status_code == 202
    return settings, attempt


def test_concurrent_claims_never_overlap(database_url, tmp_path, client, people):
    queued(database_url, tmp_path, client, people, 24)
    engine = client.app.state.engine
    got: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claimer() -> None:
        with Session(engine) as session:
            barrier.wait()
            mine = []
            while batch := claim(session, "face", 5, lease_s=60):
                mine += [m.id for m in batch]
                assert all(m.data for m in batch)  # the frame's bytes travel with the claim
            got.append(mine)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for mine in got for i in mine]
    assert len(claimed) == len(set(claimed)) == 24
    with Session(engine) as session:  # leased: nothing is due now, all again after the lease
        assert claim(session, "face", 50, lease_s=60) == []
        assert len(claim(session, "face", 50, lease_s=60, now=utcnow() + timedelta(seconds=61))) == 24


def test_a_batch_is_stored_in_one_go(database_url, tmp_path, client, people):
    settings, attempt = queued(database_url, tmp_path, client, people, 4, RETRY_MAX_ATTEMPTS=2)
    engine = client.app.state.engine
    with Session(engine) as session:
        ids = [m.id for m in claim(session, "face", 10, lease_s=60)]
        applied = apply_outcomes(
            session,
            settings,
            [
                Outcome(ids[0], result=RESULT),
                Outcome(ids[1], rejected="The image is damaged."),
                Outcome(ids[2], unavailable="The AI server did not answer in time."),
                Outcome(ids[3], unavailable="The AI server did not answer in time."),
            ],
        )
        assert (applied.analysed, applied.samples, applied.rejected, applied.retried) == (1, 1, 1, 2)
        media = {m.id: m for m in session.exec(select(CaptureMedia)).all()}
        assert [media[i].status for i in ids] == ["analysed", "unanalysed", "pending", "pending"]
        assert media[ids[0]].data is None and media[ids[1]].data is None and media[ids[2]].data
        assert media[ids[2]].next_try_at > utcnow() + timedelta(seconds=500)  # RETRY_BACKOFF_S 600
        samples = {s.media_id: s for s in session.exec(select(EmotionSample)).all()}
        assert (samples[ids[0]].status, samples[ids[0]].emotion, samples[ids[0]].faces) == ("ok", "happy", 1)
        assert samples[ids[1]].status == "unanalysed" and samples[ids[2]].status == "pending"

        # the second failure is the last try (RETRY_MAX_ATTEMPTS=2): unanalysed, and its bytes dropped
        applied = apply_outcomes(session, settings, [Outcome(ids[2], unavailable="down")])
        assert applied.gave_up == 1
        session.expire_all()
        gone = session.get(CaptureMedia, ids[2])
        assert (
            gone.status == "unanalysed" and gone.data is None and "Gave up after 2 tries" in gone.last_error
        )

        # consent no longer given when the result comes (changed under the queue): never analysed, dropped
        session.exec(update(Attempt).where(Attempt.id == attempt["id"]).values(camera=False))
        session.commit()
        applied = apply_outcomes(session, settings, [Outcome(ids[3], result=RESULT)])
        assert (applied.analysed, applied.dropped) == (0, 1)
        assert session.get(CaptureMedia, ids[3]) is None
        assert session.exec(select(EmotionSample).where(EmotionSample.media_id == ids[3])).all() == []
