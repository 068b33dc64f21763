"""Consent per attempt and per modality, enforced by the server, with its history.

- `camera`: webcam frames may be sent and analysed. Without it (false or null) frames are refused (403).
- `microphone`: oral recordings may be analysed for emotion. Without it a recording is still kept as the
  answer, but it is never sent to the AI server and gives no emotion samples.

A student can change their consent at any time during the attempt (`PUT /attempts/{id}/consent`) and can
withdraw it even after submitting. Withdrawing deletes what was analysed under it: the modality's emotion
samples, its queued media and kept frames (a recording stays as the answer, no longer queued). Every value
given is kept in `consent_event` (the consent history of the data export).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Attempt, ConsentEvent, ConsentEventRead
from web_server.models.emotion import CaptureMedia, EmotionSample, MediaStatus, Modality
from web_server.models.user import Role, User
from web_server.services.errors import Conflict, Forbidden, NotFound

FIELDS = {"camera": Modality.face, "microphone": Modality.voice}


def consented(attempt: Attempt, modality: str) -> bool:
    """Whether the attempt's student allowed the analysis of `modality` (null counts as no)."""
    return bool(attempt.camera if modality == Modality.face else attempt.microphone)


def record_events(session: Session, attempt_id: int, values: dict[str, bool | None]) -> None:
    """Add the history rows for the values given (the caller commits)."""
    session.add_all(
        ConsentEvent(attempt_id=attempt_id, modality=name, value=value)
        for name, value in values.items()
        if name in FIELDS
    )


def purge_modality(session: Session, settings: Settings, attempt_id: int, modality: str) -> list[str]:
    """Delete what was analysed for `modality` (the caller commits; returns files to remove afterwards).

    Face: every face sample and frame (queued or kept). Voice: every voice sample; the recordings stay as the
    answers and are taken off the retry queue (`kept`).
    """
    session.exec(
        delete(EmotionSample).where(
            col(EmotionSample.attempt_id) == attempt_id, col(EmotionSample.modality) == modality
        )
    )
    if modality == Modality.voice:
        session.exec(
            update(CaptureMedia)
            .where(col(CaptureMedia.attempt_id) == attempt_id, col(CaptureMedia.modality) == modality)
            .values(status=MediaStatus.kept, next_try_at=None, last_error=None)
        )
        return []
    paths = session.exec(
        select(CaptureMedia.path).where(
            col(CaptureMedia.attempt_id) == attempt_id,
            col(CaptureMedia.modality) == modality,
            col(CaptureMedia.path).is_not(None),
        )
    ).all()
    session.exec(
        delete(CaptureMedia).where(
            col(CaptureMedia.attempt_id) == attempt_id, col(CaptureMedia.modality) == modality
        )
    )
    return [p for p in paths if p]


def remove_files(media_dir: Path, relatives: list[str]) -> None:
    root = Path(media_dir).resolve()
    for relative in relatives:
        path = (root / relative).resolve()
        if path.is_relative_to(root):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def apply(session: Session, settings: Settings, attempt: Attempt, values: dict[str, bool | None]) -> Attempt:
    """Store new consent values on `attempt` with their history; withdrawn modalities are purged. Commits.

    The attempt row is locked first (UPDATE), so an upload being stored waits and is then judged by the new
    values, or is stored before and purged here.
    """
    values = {k: v for k, v in values.items() if k in FIELDS}
    if not values:
        return attempt
    granting = any(v and not getattr(attempt, k) for k, v in values.items())
    statement = update(Attempt).where(col(Attempt.id) == attempt.id).values(**values)
    if granting:
        statement = statement.where(col(Attempt.submitted_at).is_(None))
    if session.connection().execute(statement).rowcount != 1:
        session.rollback()
        raise Conflict("This attempt has been submitted: consent can still be withdrawn, not given.")
    session.expire(attempt)
    before = session.exec(
        select(ConsentEvent.modality, ConsentEvent.value)
        .where(ConsentEvent.attempt_id == attempt.id)
        .order_by(col(ConsentEvent.at), col(ConsentEvent.id))
    ).all()
    last = {name: value for name, value in before}
    changed = {k: v for k, v in values.items() if k not in last or last[k] != v}
    record_events(session, attempt.id, changed)
    files: list[str] = []
    for name, value in values.items():
        if not value:
            files += purge_modality(session, settings, attempt.id, FIELDS[name])
    session.commit()
    remove_files(settings.MEDIA_DIR, files)
    session.refresh(attempt)
    return attempt


def change(session: Session, settings: Settings, user: User, attempt_id: int, values: dict) -> Attempt:
    """`PUT /attempts/{id}/consent` by the attempt's own student."""
    from web_server.services.attempts import get_attempt_for

    if user.role != Role.student:
        raise Forbidden("Only the student taking the test can give or withdraw consent.")
    attempt = get_attempt_for(session, user, attempt_id)
    if attempt.student_id != user.id:  # pragma: no cover  (get_attempt_for already refuses)
        raise NotFound(f"Attempt {attempt_id} not found.")
    return apply(session, settings, attempt, values)


def history(session: Session, attempt_ids: list[int]) -> list[ConsentEventRead]:
    if not attempt_ids:
        return []
    rows = session.exec(
        select(ConsentEvent)
        .where(col(ConsentEvent.attempt_id).in_(attempt_ids))
        .order_by(col(ConsentEvent.attempt_id), col(ConsentEvent.at), col(ConsentEvent.id))
    ).all()
    return [ConsentEventRead.model_validate(r, from_attributes=True) for r in rows]
