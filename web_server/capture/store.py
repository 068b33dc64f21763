"""Storing an upload with its rows: queued for analysis (`pending`), refused by a full queue
(`unanalysed`), or kept as the answer only (`saved`).

A queued frame waits in the database (`capture_media.data`), so that every web server and worker process
reaches it, unless STORE_RAW_FRAMES keeps it as a file. A recording is the question's answer: a file under
MEDIA_DIR (`files.staged_media`: written, its rows committed, then published; removed if the rows fail).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from web_server.capture import samples as from_results
from web_server.capture.files import remove_media_file, staged_media
from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample, MediaStatus, Modality, SampleStatus
from web_server.models.user import User
from web_server.services import capture_rules
from web_server.services.attempts import set_answer_recording

log = logging.getLogger(__name__)


def _save_recording_answer(
    session: Session, settings: Settings, user: User, attempt_id: int, question_id: int, relative: str
) -> None:
    """The recording becomes the question's answer (committed at once); its file goes if that is refused."""
    try:
        set_answer_recording(session, user, attempt_id, question_id, relative)
    except Exception:
        remove_media_file(settings.MEDIA_DIR, relative)
        raise


def pending_count(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(CaptureMedia).where(CaptureMedia.status == MediaStatus.pending)
    ).one()


@dataclass
class Stored:
    """What an upload produced: `status` pending | unanalysed | saved, and the samples stored (placeholders:
    the analysis replaces them). `delayed`: the analysis is behind (AI server down or overloaded)."""

    status: str
    samples: list[EmotionSample] = field(default_factory=list)
    media_id: int | None = None
    message: str | None = None
    delayed: bool = False


def _media_row(
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
    relative: str | None,
    status: MediaStatus,
) -> CaptureMedia:
    return CaptureMedia(
        attempt_id=attempt.id,
        question_id=question_id,
        modality=modality,
        path=relative,
        content_type=content_type,
        size_bytes=len(data),
        captured_at=at,
        status=status,
    )


def store_queued(
    session: Session,
    settings: Settings,
    user: User,
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
    delay: str | None,
    depth: int | None = None,
) -> Stored:
    """Queue an upload for the analysis workers (`pending`, with a placeholder sample), or mark it
    unanalysed when the queue is full (a recording is kept as the answer in both cases; a frame is dropped
    when not queued). `delay`: why the analysis is behind right now (None: it keeps up); `depth`: the queue's
    depth if the caller has just counted it."""
    refusal = capture_rules.queue_refusal(session, settings, attempt.id, modality, depth)
    queued = refusal is None
    status = MediaStatus.pending if queued else MediaStatus.unanalysed
    in_db = queued and modality == Modality.face and not settings.STORE_RAW_FRAMES
    keep_file = (queued and not in_db) or modality == Modality.voice or settings.STORE_RAW_FRAMES
    with staged_media(settings, attempt.id, modality, data, content_type, keep_file) as file:
        relative = file.relative if file else None
        media = _media_row(attempt, question_id, modality, at, data, content_type, relative, status)
        media.data = data if in_db else None
        media.next_try_at = utcnow() if queued else None
        media.last_error = None if queued else f"The waiting queue refused it: {refusal}."[:500]
        session.add(media)
        session.flush()
        sample = EmotionSample(
            attempt_id=attempt.id,
            question_id=question_id,
            media_id=media.id,
            modality=modality,
            captured_at=at,
            offset_ms=from_results.offset_ms(attempt, at),
            status=SampleStatus.pending if queued else SampleStatus.unanalysed,
        )
        session.add(sample)
        session.flush()
        if modality == Modality.voice and relative:  # commits the rows above with the answer
            _save_recording_answer(session, settings, user, attempt.id, question_id, relative)
        session.add_all([media, sample])
        session.commit()
    session.refresh(sample)
    what = "frame" if modality == Modality.face else "recording (your answer is saved)"
    if queued and delay is None:
        message = f"This {what} is kept and queued: it will be analysed in a few seconds."
    elif queued:
        message = f"{delay} This {what} is kept and queued: it will be analysed when the AI server answers."
    elif modality == Modality.face:
        message = f"The analysis is busy and {refusal}: this frame was not kept and will not be analysed."
    else:
        message = (
            f"Your answer is saved, but the analysis is busy and {refusal}: "
            "this recording will not be analysed for emotion."
        )
    return Stored(str(status), [sample], media.id, message, delayed=queued and delay is not None)


def store_kept(
    session: Session,
    settings: Settings,
    user: User,
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
    message: str,
) -> Stored:
    """A recording kept as the answer and never analysed (no voice-analysis consent, or mode `off`): no
    samples, never sent to the AI server; the media row (`kept`) lets the retention sweep find the file."""
    with staged_media(settings, attempt.id, modality, data, content_type) as file:
        media = _media_row(
            attempt, question_id, modality, at, data, content_type, file.relative, MediaStatus.kept
        )
        session.add(media)
        session.flush()
        _save_recording_answer(session, settings, user, attempt.id, question_id, file.relative)
        session.add(media)
        session.commit()
    return Stored("saved", [], media.id, message)
