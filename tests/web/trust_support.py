"""Helpers of the consent, mode, export and audit tests: an app whose AI server is down (nothing listening),
attempts started with a given consent, and analysed emotion samples written straight to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session

from tests.conftest import make_test_settings
from tests.support.api import API, create_test, oral_payload, single_choice_payload
from tests.support.servers import free_port
from web_server.core.config import Settings
from web_server.models.emotion import EmotionSample

JPEG = b"\xff\xd8\xff\xe0 not decoded: the AI server is down \xff\xd9"
WEBM = b"\x1aE\xdf\xa3 a recording kept as the answer"


def dead_ai_settings(database_url: str, tmp_path, **overrides) -> Settings:
    """The AI server is down: consented media are queued (202 pending) and stay queued during the test."""
    values = {
        "AI_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "AI_BREAKER_S": 30.0,
        "RETRY_BACKOFF_S": 600.0,
        "RETRY_POLL_S": 0.1,
        "MEDIA_SWEEP_INTERVAL_S": 3600.0,
        "FRAME_MIN_INTERVAL_S": 0.0,
    }
    values.update(overrides)
    return make_test_settings(database_url, tmp_path, **values)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_test(client: httpx.Client, teacher: dict, kind: str = "oral", **fields) -> dict:
    payload = oral_payload(questions=2) if kind == "oral" else single_choice_payload(questions=2)
    return create_test(client, teacher, {**payload, **fields})


def start(client: httpx.Client, student: dict, test: dict, consent: dict | None) -> dict:
    r = client.post(f"{API}/tests/{test['id']}/attempts", headers=student, json=consent)
    assert r.status_code in (200, 201), r.text
    attempt = r.json()
    attempt["questions"] = [q["id"] for q in test["questions"]]
    return attempt


def post_frame(client: httpx.Client, student: dict, attempt: dict, question: int | None = None):
    return client.post(
        f"{API}/attempts/{attempt['id']}/frames",
        headers=student,
        files={"image": ("frame.jpg", JPEG, "image/jpeg")},
        data={"captured_at": iso(datetime.now(UTC)), "question_id": str(question or attempt["questions"][0])},
    )


def post_audio(client: httpx.Client, student: dict, attempt: dict, question: int | None = None):
    return client.post(
        f"{API}/attempts/{attempt['id']}/audio",
        headers=student,
        files={"audio": ("answer.webm", WEBM, "audio/webm")},
        data={"started_at": iso(datetime.now(UTC)), "question_id": str(question or attempt["questions"][0])},
    )


def add_samples(engine, attempt: dict, emotions: list[str], modality: str = "face") -> None:
    """Analysed samples of `attempt`, one second apart, on its first question."""
    t0 = datetime.fromisoformat(attempt["started_at"].replace("Z", "+00:00"))
    with Session(engine) as session:
        for i, emotion in enumerate(emotions):
            session.add(
                EmotionSample(
                    attempt_id=attempt["id"],
                    question_id=attempt["questions"][0],
                    modality=modality,
                    captured_at=t0 + timedelta(seconds=i),
                    offset_ms=i * 1000,
                    emotion=emotion,
                    confidence=0.8,
                    scores={emotion: 0.8},
                    faces=1 if modality == "face" else None,
                    status="ok",
                )
            )
        session.commit()
