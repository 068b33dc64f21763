"""Driving an attempt with capture through the web API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.api import API, create_test, oral_payload, single_choice_payload


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


CONSENT = {"camera": True, "microphone": True}


def start_attempt(
    client: httpx.Client,
    people,
    kind: str = "single_choice",
    student: str = "student",
    consent: dict | None = CONSENT,
    **test_fields: Any,
) -> dict:
    """A new test of `kind` (with `test_fields`, e.g. emotion_analysis) and the student's attempt, started
    with `consent` (default: camera and microphone allowed; None: no body)."""
    payload = oral_payload(questions=2) if kind == "oral" else single_choice_payload(questions=3)
    test = create_test(client, people.teacher, {**payload, **test_fields})
    r = client.post(f"{API}/tests/{test['id']}/attempts", headers=getattr(people, student), json=consent)
    assert r.status_code == 201, r.text
    attempt = r.json()
    attempt["test"] = test
    attempt["t0"] = parse(attempt["started_at"])
    return attempt


def post_frame(
    client: httpx.Client, headers: dict, attempt_id: int, question_id: int, at: datetime, jpeg: bytes
) -> httpx.Response:
    return client.post(
        f"{API}/attempts/{attempt_id}/frames",
        headers=headers,
        files={"image": ("frame.jpg", jpeg, "image/jpeg")},
        data={"captured_at": iso(at), "question_id": str(question_id)},
    )


def post_audio(
    client: httpx.Client, headers: dict, attempt_id: int, question_id: int, at: datetime, audio: bytes
) -> httpx.Response:
    return client.post(
        f"{API}/attempts/{attempt_id}/audio",
        headers=headers,
        files={"audio": ("answer.webm", audio, "audio/webm")},
        data={"started_at": iso(at), "question_id": str(question_id)},
    )


def at_offset(attempt: dict, seconds: float) -> datetime:
    return attempt["t0"] + timedelta(seconds=seconds)


def wait_for(predicate, timeout: float = 90.0, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def analysed_timeline(
    client: httpx.Client, headers: dict, attempt_id: int, count: int | None = None, **params
):
    """The attempt's timeline once the analysis workers have handled every queued upload (no sample is
    `pending`), with at least `count` samples when given."""
    from tests.support.api import API

    def settled():
        r = client.get(f"{API}/attempts/{attempt_id}/emotions", headers=headers, params=params)
        assert r.status_code == 200, r.text
        timeline = r.json()
        done = all(s["status"] != "pending" for s in timeline) and (count is None or len(timeline) >= count)
        return done and (timeline or [None])

    timeline = wait_for(settled, timeout=120)
    return [s for s in timeline if s is not None]


def assert_queued(response: httpx.Response, modality: str = "face") -> dict:
    """A 202 `pending` upload with its one placeholder sample."""
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending" and "kept and queued" in body["message"], body
    [sample] = body["samples"]
    assert sample["status"] == "pending" and sample["modality"] == modality and sample["emotion"] is None
    return body
