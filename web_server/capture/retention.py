"""The retention and orphan-file sweep of capture media."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from web_server.capture.files import remove_media_file
from web_server.core.config import Settings
from web_server.models.attempt import Answer, Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, MediaStatus

log = logging.getLogger(__name__)


def sweep_media(session: Session, settings: Settings) -> int:
    """Delete recordings past RECORDING_RETENTION_DAYS and files of attempts that no longer exist
    (deleted users and tests cascade in the database; their files go here). Returns files removed."""
    removed = 0
    if settings.RECORDING_RETENTION_DAYS > 0:
        cutoff = utcnow() - timedelta(days=settings.RECORDING_RETENTION_DAYS)
        old = session.exec(
            select(CaptureMedia).where(
                CaptureMedia.created_at < cutoff,
                CaptureMedia.path.is_not(None),  # type: ignore[union-attr]
                CaptureMedia.status != MediaStatus.pending,
            )
        ).all()
        for media in old:
            session.exec(
                update(Answer).where(Answer.recording_path == media.path).values(recording_path=None)
            )
            remove_media_file(settings.MEDIA_DIR, media.path)
            media.path = None
            session.add(media)
            removed += 1
        session.commit()
    root = settings.MEDIA_DIR / "attempts"
    if root.is_dir():
        ids = {int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
        if ids:
            alive = set(session.exec(select(Attempt.id).where(Attempt.id.in_(ids))).all())  # type: ignore
            for gone in sorted(ids - alive):
                shutil.rmtree(root / str(gone), ignore_errors=True)
                removed += 1
    return removed
