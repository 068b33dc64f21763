"""The analysis queue in the database: claiming due media, applying results, retries and giving up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from web_server.capture.files import remove_media_file
from web_server.capture.samples import samples_from_result
from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample, MediaStatus, Modality, SampleStatus

log = logging.getLogger(__name__)


def backoff_s(settings: Settings, tries: int) -> float:
    return min(settings.RETRY_BACKOFF_MAX_S, settings.RETRY_BACKOFF_S * 2 ** max(0, tries - 1))


def claim_due_media(session: Session, now: datetime, limit: int, lease_s: float) -> list[CaptureMedia]:
    """Pending media due for a retry, claimed for `lease_s` seconds (their next try is pushed back), so
    that several web server processes never analyse the same media twice (SKIP LOCKED on PostgreSQL)."""
    rows = session.exec(
        select(CaptureMedia)
        .where(CaptureMedia.status == MediaStatus.pending, CaptureMedia.next_try_at <= now)
        .order_by(CaptureMedia.next_try_at, CaptureMedia.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for media in rows:
        media.next_try_at = now + timedelta(seconds=lease_s)
        session.add(media)
    session.commit()
    for media in rows:
        session.refresh(media)
    session.expunge_all()
    return list(rows)


def apply_retry_result(session: Session, settings: Settings, media_id: int, result: dict) -> int:
    """Replace the placeholder sample(s) of analysed media by the real samples; returns how many."""
    media = session.get(CaptureMedia, media_id, with_for_update=True)
    if media is None or media.status != MediaStatus.pending:
        return 0
    attempt = session.get(Attempt, media.attempt_id)
    if attempt is None:
        return 0
    session.exec(delete(EmotionSample).where(EmotionSample.media_id == media_id))
    samples = samples_from_result(
        attempt, media.question_id, media.modality, media.captured_at, result, media_id
    )
    session.add_all(samples)
    media.status = MediaStatus.analysed
    media.tries += 1
    media.next_try_at = None
    media.last_error = None
    if media.modality == Modality.face and not settings.STORE_RAW_FRAMES:
        remove_media_file(settings.MEDIA_DIR, media.path)
        media.path = None
    session.add(media)
    session.commit()
    return len(samples)


def give_up(session: Session, settings: Settings, media_id: int, reason: str) -> None:
    """Mark media and their placeholder samples unanalysed (a frame's file goes, a recording stays)."""
    media = session.get(CaptureMedia, media_id)
    if media is None:
        return
    media.status = MediaStatus.unanalysed
    media.next_try_at = None
    media.last_error = reason[:500]
    if media.modality == Modality.face and not settings.STORE_RAW_FRAMES:
        remove_media_file(settings.MEDIA_DIR, media.path)
        media.path = None
    session.add(media)
    session.exec(
        update(EmotionSample)
        .where(EmotionSample.media_id == media_id, EmotionSample.status == SampleStatus.pending)
        .values(status=SampleStatus.unanalysed)
    )
    session.commit()


def schedule_retry(session: Session, settings: Settings, media_id: int, reason: str) -> None:
    media = session.get(CaptureMedia, media_id)
    if media is None:
        return
    media.tries += 1
    if media.tries >= settings.RETRY_MAX_ATTEMPTS:
        session.commit()
        give_up(session, settings, media_id, f"Gave up after {media.tries} tries: {reason}")
        return
    media.next_try_at = utcnow() + timedelta(seconds=backoff_s(settings, media.tries))
    media.last_error = reason[:500]
    session.add(media)
    session.commit()
