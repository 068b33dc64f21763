"""The upload flow of one frame or recording: accept fast, analyse later.

An upload only authenticates (the route), checks the attempt (own student, still open), the question,
consent and the lawful-use mode (`services/capture_rules.py`), the frame rate, the size and the type, then
stores the media in the analysis queue (`store.store_queued`) and answers at once (202 `pending`); the
analysis workers (`worker.py`) analyse it in batches and replace its placeholder sample. A recording
without voice-analysis consent (or with the mode `off`) is kept as the answer only (200 `saved`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from anyio import to_thread
from sqlmodel import Session

from web_server.capture.checks import (
    check_content_type,
    check_media_type,
    check_size,
    open_attempt_for_capture,
    oral_question_check,
)
from web_server.capture.health import AnalysisHealth
from web_server.capture.store import Stored, store_kept, store_queued
from web_server.core.config import Settings
from web_server.models.emotion import Modality
from web_server.models.user import User
from web_server.services import capture_rules
from web_server.services.errors import ServiceUnavailable

log = logging.getLogger(__name__)

OVERLOAD_RETRY_S = 10  # Retry-After of a frame refused because the analysis queue is full


def accept(
    session: Session,
    settings: Settings,
    health: AnalysisHealth,
    user: User,
    attempt_id: int,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
) -> Stored:
    """Check and store one upload in the request's session (blocking: runs in a worker thread)."""
    try:
        attempt = open_attempt_for_capture(session, attempt_id, user, question_id)
        if modality == Modality.voice:
            oral_question_check(session, attempt)
            refusal = capture_rules.recording_analysis_refusal(session, settings, attempt)
            if refusal is not None:  # kept as the answer, never sent to the AI server
                return store_kept(
                    session, settings, user, attempt, question_id, modality, at, data, content_type, refusal
                )
            depth = None
        else:
            capture_rules.check_frame_allowed(session, settings, attempt)
            depth = capture_rules.queue_depth(session, settings)
            if depth >= settings.RETRY_QUEUE_MAX:  # overload: backpressure, nothing stored
                session.rollback()
                raise ServiceUnavailable(
                    f"The analysis is overloaded: the waiting queue is full ({depth} uploads of all students "
                    f"are waiting). This frame was not stored; send the next one in {OVERLOAD_RETRY_S} s.",
                    headers={"Retry-After": str(OVERLOAD_RETRY_S)},
                )
            capture_rules.claim_frame_slot(session, settings, attempt.id)
        delay = health.delay(session, settings)
        return store_queued(
            session, settings, user, attempt, question_id, modality, at, data, content_type, delay, depth
        )
    finally:
        session.expunge_all()


async def capture(
    session: Session,
    settings: Settings,
    health: AnalysisHealth,
    user: User,
    attempt_id: int,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
) -> Stored:
    """Check and queue one frame (`at` = captured_at) or recording (`at` = started_at); wake the workers."""
    is_image = modality == Modality.face
    limit = settings.MAX_IMAGE_BYTES if is_image else settings.MAX_AUDIO_BYTES
    check_size(data, limit, "image" if is_image else "recording")
    check_content_type(content_type)
    check_media_type(data, is_image)
    stored = await to_thread.run_sync(
        accept, session, settings, health, user, attempt_id, question_id, modality, at, data, content_type
    )
    if stored.status == "pending":
        health.wake()
    return stored
