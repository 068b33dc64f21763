"""Storing an upload with its rows: queued for analysis (`pending`), refused by a full queue
(`unanalysed`), or kept as the answer only (`saved`).

A queued frame waits in the database (`capture_media.data`), so that every web server and worker process
reaches it, unless STORE_RAW_FRAMES keeps it as a file. A recording is the question's answer: a file under
MEDIA_DIR (`files.staged_media`: written, its rows committed, then published; removed if the rows fail).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from web_server.capture import samples as from_results
from web_server.capture.checks import AttemptFacts
from web_server.capture.files import remove_media_file, staged_media
from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample, MediaStatus, Modality, SampleStatus
from web_server.models.user import User
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


@dataclass(frozen=True)
class Upload:
    """One frame (`at` = captured_at) or recording (`at` = started_at) of `user` for a question of an
    attempt, as received."""

    user: User
    attempt_id: int
    question_id: int
    modality: str
    at: datetime
    data: bytes
    content_type: str


@dataclass
class Stored:
    """What an upload produced: `status` pending | unanalysed | saved, and the samples stored (placeholders:
    the analysis replaces them). `delayed`: the analysis is behind (AI server down or overloaded)."""

    status: str
    samples: list[EmotionSample] = field(default_factory=list)
    media_id: int | None = None
    message: str | None = None
    delayed: bool = False


def _media_row(upload: Upload, relative: str | None, status: MediaStatus) -> CaptureMedia:
    return CaptureMedia(
        attempt_id=upload.attempt_id,
        question_id=upload.question_id,
        modality=upload.modality,
        path=relative,
        content_type=upload.content_type,
        size_bytes=len(upload.data),
        captured_at=upload.at,
        status=status,
    )


@contextlib.contextmanager
def _keeping_objects(session: Session) -> Iterator[None]:
    """Commits in the block do not expire the session's objects: what was just stored is answered as it is,
    without reading it back."""
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = expire


def store_queued(
    session: Session,
    settings: Settings,
    upload: Upload,
    attempt: Attempt | AttemptFacts,
    delay: str | None,
    refusal: str | None,
) -> Stored:
    """Queue an upload for the analysis workers (`pending`, with a placeholder sample), or mark it
    unanalysed when the queue refused it (`refusal`, from `capture_rules.queue_refusal`; a recording is kept
    as the answer in both cases; a frame is dropped when not queued). `delay`: why the analysis is behind
    right now (None: it keeps up). Commits."""
    modality = upload.modality
    queued = refusal is None
    status = MediaStatus.pending if queued else MediaStatus.unanalysed
    in_db = queued and modality == Modality.face and not settings.STORE_RAW_FRAMES
    keep_file = (queued and not in_db) or modality == Modality.voice or settings.STORE_RAW_FRAMES
    staged = staged_media(settings, upload.attempt_id, modality, upload.data, upload.content_type, keep_file)
    with _keeping_objects(session), staged as file:
        relative = file.relative if file else None
        media = _media_row(upload, relative, status)
        media.data = upload.data if in_db else None
        media.next_try_at = utcnow() if queued else None
        media.last_error = None if queued else f"The waiting queue refused it: {refusal}."[:500]
        session.add(media)
        session.flush()
        sample = EmotionSample(
            attempt_id=upload.attempt_id,
            question_id=upload.question_id,
            media_id=media.id,
            modality=modality,
            captured_at=upload.at,
            offset_ms=from_results.offset_ms(attempt, upload.at),
            status=SampleStatus.pending if queued else SampleStatus.unanalysed,
        )
        session.add(sample)
        if modality == Modality.voice and relative:  # commits the rows above with the answer
            session.flush()
            _save_recording_answer(
                session, settings, upload.user, upload.attempt_id, upload.question_id, relative
            )
        session.commit()
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


def store_kept(session: Session, settings: Settings, upload: Upload, message: str) -> Stored:
    """A recording kept as the answer and never analysed (no voice-analysis consent, or mode `off`): no
    samples, never sent to the AI server; the media row (`kept`) lets the retention sweep find the file."""
    with staged_media(settings, upload.attempt_id, upload.modality, upload.data, upload.content_type) as file:
        media = _media_row(upload, file.relative, MediaStatus.kept)
        session.add(media)
        session.flush()
        media_id = media.id
        _save_recording_answer(  # commits the media row with the answer
            session, settings, upload.user, upload.attempt_id, upload.question_id, file.relative
        )
    return Stored("saved", [], media_id, message)
