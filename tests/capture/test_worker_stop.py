"""The analysis workers stop when the web server shuts down, even when an upload wakes them at that moment
(on Python 3.11 `asyncio.wait_for` lost such a cancellation: the worker ran on and the shutdown hung)."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from tests.conftest import make_test_settings
from web_server.capture.health import AnalysisHealth
from web_server.capture.worker import AnalysisWorker
from web_server.main import create_app


async def _wake_then_stop(health: AnalysisHealth, worker: AnalysisWorker) -> bool:
    """Wake the worker as an upload does and stop it in the same loop iteration; whether it stopped
    within 15 s (without help: the timeout's own cancellation would reach the worker)."""
    health.wake()
    await asyncio.sleep(0)  # the wake-up is delivered; the worker resumes in the next iteration
    async with asyncio.timeout(15) as deadline:
        await worker.stop()  # cancels at once, before the worker resumed
    return not deadline.expired()


def test_a_worker_woken_as_the_server_stops_still_stops(database_url, tmp_path, dead_ai_url):
    settings = make_test_settings(database_url, tmp_path, AI_SERVER_URL=dead_ai_url, RETRY_POLL_S=60.0)
    with TestClient(create_app(settings)) as client:
        [worker] = client.app.state.analysis_workers
        client.portal.call(asyncio.sleep, 0.6)  # its first round is done: it waits to be woken
        assert client.portal.call(_wake_then_stop, client.app.state.analysis_health, worker) is True
