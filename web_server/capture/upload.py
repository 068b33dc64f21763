"""The upload flow of one frame or recording: accept fast, analyse later.

An upload only authenticates (the route), checks the attempt (own student, still open), the question,
consent and the lawful-use mode (`services/capture_rules.py`), the frame rate, the size and the type, then
stores the media in the analysis queue (`store.store_queued`) and answers at once (202 `pending`); the
analysis workers (`worker.py`) analyse it in batches and replace its placeholder sample. A recording
without voice-analysis consent (or with the mode `off`) is kept as the answer only (200 `saved`).

A frame is the hot path (every student, every few seconds): the attempt's facts that never change come from
a per-process cache (`checks.attempt_facts`), then one guarded UPDATE admits it (open, consent, mode, rate:
read from the database every time), one statement counts the queue, two INSERTs store it, one commit. Only
when that UPDATE refuses the frame is the attempt read again, to say why.
"""

from __future__ import annotations

import logging

from anyio import to_thread
from sqlmodel import Session

from web_server.capture.checks import (
    attempt_facts,
    check_content_type,
    check_media_type,
    check_size,
    forget_attempt_facts,
    open_attempt_for_capture,
    oral_question_check,
)
from web_server.capture.health import AnalysisHealth
from web_server.capture.store import Stored, Upload, store_kept, store_queued
from web_server.core.config import Settings
from web_server.models.emotion import Modality
from web_server.models.user import Role
from web_server.services import capture_rules, modes
from web_server.services.errors import ServiceUnavailable, TooManyRequests

log = logging.getLogger(__name__)

OVERLOAD_RETRY_S = 10  # Retry-After of a frame refused because the analysis queue is full


def accept(session: Session, settings: Settings, health: AnalysisHealth, upload: Upload) -> Stored:
    """Check and store one upload in the request's session (blocking: runs in a worker thread)."""
    try:
        if upload.modality == Modality.voice:
            return _accept_recording(session, settings, health, upload)
        return _accept_frame(session, settings, health, upload)
    finally:
        session.expunge_all()


def _accept_recording(session: Session, settings: Settings, health: AnalysisHealth, upload: Upload) -> Stored:
    """A recording (once per oral answer): the attempt row locked while its answer is stored."""
    attempt = open_attempt_for_capture(session, upload.attempt_id, upload.user, upload.question_id)
    oral_question_check(session, attempt)
    refusal = capture_rules.recording_analysis_refusal(session, settings, attempt)
    if refusal is not None:  # kept as the answer, never sent to the AI server
        return store_kept(session, settings, upload, refusal)
    total, mine = capture_rules.queue_depths(session, settings, attempt.id, upload.modality)
    refusal = capture_rules.queue_refusal(settings, upload.modality, total, mine)
    return store_queued(session, settings, upload, attempt, health.delay(session, settings), refusal)


def _accept_frame(session: Session, settings: Settings, health: AnalysisHealth, upload: Upload) -> Stored:
    user = upload.user
    for fresh in (False, True):  # cached facts first; read again when the database disagrees with them
        facts = attempt_facts(session, upload.attempt_id, fresh)
        admitted = (
            user.role == Role.student
            and facts is not None
            and facts.student_id == user.id
            and upload.question_id in facts.question_ids
            and modes.deployment_mode(settings) != modes.OFF
            and capture_rules.claim_frame(session, settings, facts.id, user.id, facts.test_id)
        )
        if admitted:
            break
        _refuse_frame(session, settings, upload)  # raises why, unless the cached facts were stale
    else:
        raise TooManyRequests(
            "This frame arrived together with another change to the attempt and was not stored; send the "
            "next one in 1 s.",
            headers={"Retry-After": "1"},
        )
    total, mine = capture_rules.queue_depths(session, settings, facts.id, Modality.face)
    if capture_rules.queue_full(settings, total):  # overload: backpressure, nothing stored
        session.rollback()
        raise ServiceUnavailable(
            f"The analysis is overloaded: the waiting queue is full ({total} uploads of all students "
            f"are waiting). This frame was not stored; send the next one in {OVERLOAD_RETRY_S} s.",
            headers={"Retry-After": str(OVERLOAD_RETRY_S)},
        )
    refusal = capture_rules.queue_refusal(settings, Modality.face, total, mine)
    return store_queued(session, settings, upload, facts, health.delay(session, settings), refusal)


def _refuse_frame(session: Session, settings: Settings, upload: Upload) -> None:
    """Raise why the attempt refuses this frame (404, 403, 409, 403 consent or mode, 429 rate), in that
    order; return when nothing refuses it (the cached facts were stale: they are forgotten)."""
    session.rollback()
    forget_attempt_facts(session, upload.attempt_id)
    try:
        attempt = open_attempt_for_capture(session, upload.attempt_id, upload.user, upload.question_id)
        capture_rules.check_frame_allowed(session, settings, attempt)
        capture_rules.frame_rate_refusal(session, settings, attempt.id)
    finally:
        session.rollback()  # the lock `open_attempt_for_capture` took


async def capture(session: Session, settings: Settings, health: AnalysisHealth, upload: Upload) -> Stored:
    """Check and queue one frame (`at` = captured_at) or recording (`at` = started_at); wake the workers."""
    is_image = upload.modality == Modality.face
    limit = settings.MAX_IMAGE_BYTES if is_image else settings.MAX_AUDIO_BYTES
    check_size(upload.data, limit, "image" if is_image else "recording")
    check_content_type(upload.content_type)
    check_media_type(upload.data, is_image)
    stored = await to_thread.run_sync(accept, session, settings, health, upload)
    if stored.status == "pending":
        health.wake()
    return stored
