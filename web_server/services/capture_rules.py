"""What an upload may do before anything is analysed: consent, the lawful-use mode, the frame rate per attempt
and each attempt's share of the retry queue (used by web_server/capture/).

- Frames need the attempt's `camera` consent and a mode other than `off` (403 otherwise, with the reason).
- Recordings are always kept as answers; they are analysed only with `microphone` consent and a mode other
  than `off` (`recording_analysis_refusal` says why not).
- Frames are limited per attempt to one every FRAME_MIN_INTERVAL_S after a burst of FRAME_BURST (a generic
  cell rate algorithm; its state, the next frame's theoretical arrival time, is a column of the attempt, so
  every web server process shares it): beyond it 429 with Retry-After.
- A frame is admitted by one guarded UPDATE of the attempt row (`claim_frame`): the attempt is the student's,
  still open, its camera consent given, neither it nor its test has the mode `off`, and the frame rate allows
  it. Consent and mode are read from the database on every frame, so a withdrawal or a lowered mode holds
  from the next frame on, in every process; the row lock it takes orders the frame with a concurrent
  withdrawal or submission (`services/consent.py` locks the same row first).
- The analysis queue holds at most RETRY_QUEUE_MAX media, and at most RETRY_QUEUE_PER_ATTEMPT of one modality
  of one attempt, so one student cannot crowd out the others. A frame that finds the whole queue full is
  refused with 503 and Retry-After (the browser skips frames until then); a recording is still kept as the
  answer (`unanalysed`).
"""

from __future__ import annotations

import math
import time

from sqlalchemy import case, exists, func, or_, update
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


def claim_frame(
    session: Session,
    settings: Settings,
    attempt_id: int,
    student_id: int,
    test_id: int,
    now_ms: int | None = None,
) -> bool:
    """Admit one frame of this attempt in one guarded UPDATE (see the module's docstring): True when the row
    was updated (its rate slot counted, the row locked until the caller commits), False when any condition
    failed (`frame_refusal` says which). Does not commit."""
    conditions = [
        col(Attempt.id) == attempt_id,
        col(Attempt.student_id) == student_id,
        col(Attempt.test_id) == test_id,
        col(Attempt.submitted_at).is_(None),
        col(Attempt.camera).is_(True),
        or_(col(Attempt.emotion_analysis).is_(None), col(Attempt.emotion_analysis) != modes.OFF),
        exists().where(
            col(Test.id) == test_id,
            or_(col(Test.emotion_analysis).is_(None), col(Test.emotion_analysis) != modes.OFF),
        ),
    ]
    interval = settings.FRAME_MIN_INTERVAL_S * 1000
    tat = func.coalesce(col(Attempt.frame_tat_ms), 0)
    if interval > 0:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        conditions.append(tat - int((settings.FRAME_BURST - 1) * interval) <= now)
        new_tat = case((tat > now, tat), else_=now) + int(interval)
    else:
        new_tat = col(Attempt.frame_tat_ms)
    statement = update(Attempt).where(*conditions).values(frame_tat_ms=new_tat)
    return session.connection().execute(statement).rowcount == 1


def frame_rate_refusal(
    session: Session, settings: Settings, attempt_id: int, now_ms: int | None = None
) -> None:
    """429 with Retry-After when the attempt's frame rate refuses a frame now (nothing otherwise)."""
    interval = settings.FRAME_MIN_INTERVAL_S * 1000
    if interval <= 0:
        return
    now = int(time.time() * 1000) if now_ms is None else now_ms
    stored = session.exec(select(Attempt.frame_tat_ms).where(Attempt.id == attempt_id)).one()
    allowed_from = max(stored or 0, now) - (settings.FRAME_BURST - 1) * interval
    if now < allowed_from:
        wait = max(1, math.ceil((allowed_from - now) / 1000))
        raise TooManyRequests(
            f"Too many webcam frames for this attempt: at most one every {settings.FRAME_MIN_INTERVAL_S:g} s "
            f"is accepted. This frame was not stored or analysed; send the next one in {wait} s.",
            headers={"Retry-After": str(wait)},
        )


def queue_depths(session: Session, settings: Settings, attempt_id: int, modality: str) -> tuple[int, int]:
    """In one statement: the media waiting for analysis, counted up to RETRY_QUEUE_MAX (a bounded index
    scan), and those of this attempt's `modality`."""
    pending = col(CaptureMedia.status) == MediaStatus.pending
    total = select(func.count()).select_from(
        select(CaptureMedia.id).where(pending).limit(settings.RETRY_QUEUE_MAX).subquery()
    )
    mine = select(func.count()).where(
        pending, col(CaptureMedia.attempt_id) == attempt_id, col(CaptureMedia.modality) == modality
    )
    row = session.exec(select(total.scalar_subquery(), mine.scalar_subquery())).one()
    return int(row[0]), int(row[1])


def queue_full(settings: Settings, total: int) -> bool:
    return total >= settings.RETRY_QUEUE_MAX


def queue_refusal(settings: Settings, modality: str, total: int, mine: int) -> str | None:
    """None when the retry queue can take one more medium of this attempt (`total` waiting, `mine` of this
    attempt's modality, from `queue_depths`); otherwise why it cannot."""
    if queue_full(settings, total):
        return f"the waiting queue is full ({total} uploads of all students are waiting)"
    if mine >= settings.RETRY_QUEUE_PER_ATTEMPT:
        what = "frames" if modality == Modality.face else "recordings"
        return f"this attempt already has {mine} {what} waiting, the most one attempt may queue"
    return None
