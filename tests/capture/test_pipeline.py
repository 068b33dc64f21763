"""The analysis pipeline with the real AI server: frames of several attempts go to the AI server in ONE batch
request, the attempt's last face box is sent as a hint (and refreshed by a whole-frame search every
FACE_HINT_REFRESH frames), `/metrics` on the web server, and the worker as its own process
(`python -m web_server.worker`) with no worker in the web process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.capture.conftest import FAST_RETRY
from tests.capture.helpers import analysed_timeline, assert_queued, at_offset, post_frame, start_attempt
from tests.conftest import make_test_settings
from tests.support.media import one_face
from tests.support.servers import ROOT, stop_process
from web_server.main import create_app
from web_server.models.emotion import CaptureHint


def metric(text: str, name: str) -> float:
    """The value of one sample line of a Prometheus text page (0 when absent)."""
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def stop_workers(client: TestClient) -> list:
    workers = client.app.state.analysis_workers
    for worker in workers:
        client.portal.call(worker.stop)
    return workers


def test_frames_of_several_attempts_go_in_one_batch_request(client, people, ai_server):
    workers = stop_workers(client)
    frame = one_face("happy")
    attempts = [start_attempt(client, people), start_attempt(client, people, student="student2")]
    for attempt, who in zip(attempts, (people.student, people.student2), strict=True):
        q1 = attempt["test"]["questions"][0]["id"]
        for s in (1, 2, 3):
            assert_queued(post_frame(client, who, attempt["id"], q1, at_offset(attempt, s), frame))
    before = httpx.get(f"{ai_server.url}/metrics").text
    assert client.portal.call(workers[0].run_once) == 6
    after = httpx.get(f"{ai_server.url}/metrics").text
    assert metric(after, "fasel_ai_batch_images_count") - metric(before, "fasel_ai_batch_images_count") == 1
    assert metric(after, "fasel_ai_batch_images_sum") - metric(before, "fasel_ai_batch_images_sum") == 6
    for attempt, who in zip(attempts, (people.student, people.student2), strict=True):
        timeline = analysed_timeline(client, who, attempt["id"], 3)
        assert [s["faces"] for s in timeline] == [1, 1, 1]

    page = client.get("/metrics")
    assert page.status_code == 200
    assert metric(page.text, 'fasel_queue_depth{modality="face"}') == 0
    assert metric(page.text, 'fasel_uploads_total{modality="face",status="pending"}') >= 6
    assert metric(page.text, 'fasel_analysis_batch_size_count{modality="face"}') >= 1


def test_the_last_face_box_is_the_next_frames_hint(database_url, tmp_path, people, client, ai_server):
    stop_workers(client)
    hinted = make_test_settings(
        database_url,
        tmp_path,
        AI_SERVER_URL=ai_server.url,
        **{**FAST_RETRY, "FACE_HINT_REFRESH": 3, "FRAME_MIN_INTERVAL_S": 0},
    )
    attempt = start_attempt(client, people)
    q1 = attempt["test"]["questions"][0]["id"]
    frame = one_face("happy")
    before = metric(httpx.get(f"{ai_server.url}/metrics").text, 'fasel_ai_face_search_total{result="hit"}')
    uses = []
    with TestClient(create_app(hinted)) as other, Session(other.app.state.engine) as session:
        for i in range(5):
            at = at_offset(attempt, 1.5 * i)
            assert_queued(post_frame(other, people.student, attempt["id"], q1, at, frame))
            analysed_timeline(other, people.student, attempt["id"], i + 1)
            session.expire_all()
            hint = session.exec(select(CaptureHint).where(CaptureHint.attempt_id == attempt["id"])).one()
            uses.append(hint.uses)
            assert [int(v) for v in hint.box.split(",")][2] > 100  # the 180 px face
    timeline = analysed_timeline(client, people.student, attempt["id"], 5)
    assert [s["faces"] for s in timeline] == [1] * 5
    # whole frame, then the hint twice, then a whole-frame search again (every 3 frames)
    assert uses == [0, 1, 2, 0, 1]
    hits = metric(httpx.get(f"{ai_server.url}/metrics").text, 'fasel_ai_face_search_total{result="hit"}')
    assert hits - before == 3


def test_the_worker_runs_as_its_own_process(database_url, tmp_path, people, client, ai_server):
    stop_workers(client)
    apart = make_test_settings(database_url, tmp_path, AI_SERVER_URL=ai_server.url, ANALYSIS_WORKERS=0)
    attempt = start_attempt(client, people)
    q1 = attempt["test"]["questions"][0]["id"]
    with TestClient(create_app(apart)) as web:
        assert web.app.state.analysis_workers == []
        for s in (1, 2):
            assert_queued(
                post_frame(web, people.student, attempt["id"], q1, at_offset(attempt, s), one_face("sad"))
            )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "AI_SERVER_URL": ai_server.url,
            "MEDIA_DIR": str(apart.MEDIA_DIR),
            "RETRY_POLL_S": "0.2",
            "AI_TIMEOUT_S": "60",
        }
        log = (tmp_path / "worker.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "web_server.worker", "--workers", "1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            timeline = analysed_timeline(web, people.student, attempt["id"], 2)
        finally:
            stop_process(proc)
            log.close()
    assert [(s["faces"], s["status"] in ("ok", "uncertain")) for s in timeline] == [(1, True), (1, True)]
