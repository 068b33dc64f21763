"""What an upload may do before anything is analysed: consent, the lawful-use mode, the frame rate per attempt
and each attempt's share of the retry queue (used by web_server/capture/).

- Frames need the attempt's `camera` consent and a mode other than `off` (403 otherwise, with the reason).
- Recordings are always kept as answers; they are analysed only with `microphone` consent and a mode other
  than `off` (`recording_analysis_refusal` says why not).
- Frames are limited per attempt to one every FRAME_MIN_INTERVAL_S after a burst of FRAME_BURST (a generic
  cell rate algorithm; its state, the next frame's theoretical arrival time, is a column of the attempt, so
  every web server process shares it): beyond it 429 with Retry-After.
- The analysis queue holds at most RETRY_QUEUE_MAX media, and at most RETRY_QUEUE_PER_ATTEMPT of one modality
  of one attempt, so one student cannot crowd out the others. A frame that finds the whole queue full is
  refused with 503 and Retry-After (the browser skips frames until then); a recording is still kept as the
  answer (`unanalysed`).
"""

from __future__ import annotations

import math
import time

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.emotion import CaptureMedia, MediaStatus, Modality
from web_server.models.test import Test
from web_server.services import modes
from web_server.services.consent import consented
from web_server.services.errors import Forbidden, TooManyRequests


def current_mode(session: Session, settings: Settings, attempt: Attempt) -> modes.EmotionMode:
    return modes.attempt_mode(settings, session.get(Test, attempt.test_id), attempt)


def check_frame_allowed(session: Session, settings: Settings, attempt: Attempt) -> None:
    """403 when this attempt's frames may not be analysed (mode `off`, or no camera consent)."""
    if current_mode(session, settings, attempt) == modes.OFF:
        raise Forbidden("Emotion analysis is off for this test: webcam frames are not accepted.")
    if not consented(attempt, Modality.face):
        raise Forbidden(
            "You have not allowed the camera for this attempt, so webcam frames are not accepted. "
            "The test works without it; to allow it, change your consent for this attempt."
        )


def recording_analysis_refusal(session: Session, settings: Settings, attempt: Attempt) -> str | None:
    """None when a recording of this attempt may be analysed; otherwise what to tell the student."""
    if current_mode(session, settings, attempt) == modes.OFF:
        return "Your answer is saved. Emotion analysis is off for this test, so it is not analysed."
    if not consented(attempt, Modality.voice):
        return (
            "Your answer is saved. It is not analysed for emotion: you have not allowed voice analysis "
            "for this attempt."
        )
    return None


def claim_frame_slot(
    session: Session, settings: Settings, attempt_id: int, now_ms: int | None = None
) -> None:
    """Count one frame against the attempt's rate, or refuse it with 429 and Retry-After; commits (without
    expiring the session's objects).

    Call it with the attempt row locked (`get_open_attempt_for_student`), so that concurrent uploads of one
    attempt are counted one after the other on both backends.
    """
    interval = settings.FRAME_MIN_INTERVAL_S * 1000
    if interval <= 0:
        return
    now = int(time.time() * 1000) if now_ms is None else now_ms
    stored = session.exec(select(Attempt.frame_tat_ms).where(Attempt.id == attempt_id)).one()
    tat = max(stored or 0, now)
    allowed_from = tat - (settings.FRAME_BURST - 1) * interval
    if now < allowed_from:
        session.rollback()
        wait = max(1, math.ceil((allowed_from - now) / 1000))
        raise TooManyRequests(
            f"Too many webcam frames for this attempt: at most one every {settings.FRAME_MIN_INTERVAL_S:g} s "
            f"is accepted. This frame was not stored or analysed; send the next one in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    session.exec(
        update(Attempt).where(col(Attempt.id) == attempt_id).values(frame_tat_ms=int(tat + interval))
    )
    expire, session.expire_on_commit = session.expire_on_commit, False  # the caller's user stays loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def queue_depth(session: Session, settings: Settings) -> int:
    """Media waiting for analysis, counted up to RETRY_QUEUE_MAX (a bounded index scan)."""
    waiting = (
        select(CaptureMedia.id)
        .where(CaptureMedia.status == MediaStatus.pending)
        .limit(settings.RETRY_QUEUE_MAX)
    )
    return session.exec(select(func.count()).select_from(waiting.subquery())).one()


def queue_refusal(
    session: Session, settings: Settings, attempt_id: int, modality: str, total: int | None = None
) -> str | None:
    """None when the retry queue can take one more medium of this attempt; otherwise why it cannot."""
    pending = (CaptureMedia.status == MediaStatus.pending,)
    total = queue_depth(session, settings) if total is None else total
    if total >= settings.RETRY_QUEUE_MAX:
        return f"the waiting queue is full ({total} uploads of all students are waiting)"
    mine = session.exec(
        select(func.count())
        .select_from(CaptureMedia)
        .where(*pending, CaptureMedia.attempt_id == attempt_id, CaptureMedia.modality == modality)
    ).one()
    if mine >= settings.RETRY_QUEUE_PER_ATTEMPT:
        what = "frames" if modality == Modality.face else "recordings"
        return f"this attempt already has {mine} {what} waiting, the most one attempt may queue"
    return None
