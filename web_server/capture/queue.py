"""The analysis queue in the database (`capture_media` rows with status `pending`).

- `claim`: a worker takes up to N due media of one modality in ONE statement (`UPDATE ... WHERE id IN (SELECT
  ... FOR UPDATE SKIP LOCKED) RETURNING id`): on PostgreSQL concurrent workers skip each other's rows; on
  SQLite the statement takes the database's write lock, so two workers never claim the same row either.
  Claimed media are leased (their next try is pushed back): if the worker dies, they are due again later.
- `apply_outcomes`: the results of a batch in ONE transaction, opened by an UPDATE of the batch's rows that
  are still pending (which locks them, and on SQLite takes the write lock at once): analysed media get their
  samples (placeholders replaced), refused ones become `unanalysed`, unavailable ones are retried with
  exponential backoff until RETRY_MAX_ATTEMPTS tries. Media whose consent was withdrawn (or whose mode became
  `off`) while they waited are dropped (frames) or kept as the answer (recordings), never analysed.
- `hints_for` / the hints in `apply_outcomes`: the attempt's last face box, for the AI server's region search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from ai_server.schemas import FrameResult, VoiceAnswer
from web_server.capture.samples import samples_from_result
from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import (
    CaptureHint,
    CaptureMedia,
    EmotionSample,
    MediaStatus,
    Modality,
    SampleStatus,
)
from web_server.models.test import Test
from web_server.services import modes
from web_server.services.consent import consented

log = logging.getLogger(__name__)


def backoff_s(settings: Settings, tries: int) -> float:
    return min(settings.RETRY_BACKOFF_MAX_S, settings.RETRY_BACKOFF_S * 2 ** max(0, tries - 1))


@dataclass
class Claimed:
    """A claimed medium, detached from the database: what a worker needs to analyse it."""

    id: int
    attempt_id: int
    modality: str
    path: str | None
    content_type: str
    data: bytes | None
    created_at: datetime
    tries: int


def claim(
    session: Session, modality: str, limit: int, lease_s: float, now: datetime | None = None
) -> list[Claimed]:
    """Claim up to `limit` due pending media of `modality`, oldest due first, for `lease_s` seconds."""
    now = now or utcnow()
    due = (
        select(CaptureMedia.id)
        .where(
            CaptureMedia.status == MediaStatus.pending,
            CaptureMedia.modality == modality,
            col(CaptureMedia.next_try_at) <= now,
        )
        .order_by(col(CaptureMedia.next_try_at), col(CaptureMedia.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = session.exec(  # type: ignore[call-overload]
        update(CaptureMedia)
        .where(col(CaptureMedia.id).in_(due))
        .values(next_try_at=now + timedelta(seconds=lease_s))
        .returning(col(CaptureMedia.id))
        .execution_options(synchronize_session=False)
    ).all()
    ids = [row[0] for row in ids]
    session.commit()
    if not ids:
        return []
    rows = session.exec(select(CaptureMedia).where(col(CaptureMedia.id).in_(ids))).all()
    claimed = [
        Claimed(m.id, m.attempt_id, m.modality, m.path, m.content_type, m.data, m.created_at, m.tries)
        for m in rows
    ]
    session.rollback()
    session.expunge_all()
    return sorted(claimed, key=lambda c: c.id)


def parse_box(text: str | None) -> list[int] | None:
    try:
        box = [int(v) for v in (text or "").split(",")]
    except ValueError:
        return None
    return box if len(box) == 4 and box[2] > 0 and box[3] > 0 else None


def hints_for(session: Session, settings: Settings, attempt_ids: set[int]) -> dict[int, list[int]]:
    """The last face box of each attempt, unless a whole-frame search is due (every FACE_HINT_REFRESH
    frames, so that a second person or a moved face is found)."""
    if not attempt_ids:
        return {}
    rows = session.exec(select(CaptureHint).where(col(CaptureHint.attempt_id).in_(attempt_ids))).all()
    hints = {
        h.attempt_id: box
        for h in rows
        if h.uses + 1 < settings.FACE_HINT_REFRESH and (box := parse_box(h.box)) is not None
    }
    session.rollback()
    return hints


@dataclass
class Outcome:
    """What became of one claimed medium: a `result` (the AI server's answer), or `rejected` (the AI server
    refused the bytes: retrying will not help), or `unavailable` (try again later). `roi`: the face was
    searched around the hint first."""

    media_id: int
    result: FrameResult | VoiceAnswer | None = None
    rejected: str | None = None
    unavailable: str | None = None
    roi: bool = False


@dataclass
class Applied:
    analysed: int = 0
    samples: int = 0
    rejected: int = 0
    retried: int = 0
    gave_up: int = 0
    dropped: int = 0  # consent withdrawn or mode off while waiting


def apply_outcomes(session: Session, settings: Settings, outcomes: list[Outcome]) -> Applied:
    """Store a batch's outcomes in one transaction (see the module's docstring)."""
    applied = Applied()
    by_id = {o.media_id: o for o in outcomes}
    if not by_id:
        return applied
    live = session.exec(  # type: ignore[call-overload]
        update(CaptureMedia)
        .where(col(CaptureMedia.id).in_(list(by_id)), CaptureMedia.status == MediaStatus.pending)
        .values(tries=CaptureMedia.tries + 1)
        .returning(
            col(CaptureMedia.id),
            col(CaptureMedia.attempt_id),
            col(CaptureMedia.question_id),
            col(CaptureMedia.modality),
            col(CaptureMedia.captured_at),
            col(CaptureMedia.tries),
        )
        .execution_options(synchronize_session=False)
    ).all()
    if not live:
        session.commit()
        return applied
    attempts = {
        a.id: a
        for a in session.exec(select(Attempt).where(col(Attempt.id).in_({row[1] for row in live}))).all()
    }
    tests = {
        t.id: t
        for t in session.exec(
            select(Test).where(col(Test.id).in_({a.test_id for a in attempts.values()}))
        ).all()
    }
    now = utcnow()
    analysed: list[int] = []
    gave_up: dict[int, str] = {}
    dropped_faces: list[int] = []
    kept_voices: list[int] = []
    new_samples: list[EmotionSample] = []
    latest_face: dict[int, tuple[datetime, Outcome]] = {}
    for media_id, attempt_id, question_id, modality, captured_at, tries in live:
        outcome = by_id[media_id]
        attempt = attempts.get(attempt_id)
        if attempt is None:
            continue
        allowed = consented(attempt, modality) and (
            modes.attempt_mode(settings, tests.get(attempt.test_id), attempt) != modes.OFF
        )
        if not allowed:
            (dropped_faces if modality == Modality.face else kept_voices).append(media_id)
        elif outcome.result is not None:
            analysed.append(media_id)
            new_samples += samples_from_result(
                attempt, question_id, modality, captured_at, outcome.result, media_id
            )
            if modality == Modality.face:
                seen = latest_face.get(attempt_id)
                if seen is None or captured_at >= seen[0]:
                    latest_face[attempt_id] = (captured_at, outcome)
        elif outcome.rejected is not None:
            gave_up[media_id] = outcome.rejected
            applied.rejected += 1
        elif tries >= settings.RETRY_MAX_ATTEMPTS:
            gave_up[media_id] = f"Gave up after {tries} tries: {outcome.unavailable}"
            applied.gave_up += 1
        else:
            session.exec(  # type: ignore[call-overload]
                update(CaptureMedia)
                .where(col(CaptureMedia.id) == media_id)
                .values(
                    next_try_at=now + timedelta(seconds=backoff_s(settings, tries)),
                    last_error=(outcome.unavailable or "")[:500],
                )
            )
            applied.retried += 1
    if analysed:
        session.exec(delete(EmotionSample).where(col(EmotionSample.media_id).in_(analysed)))  # placeholders
        session.add_all(new_samples)
        session.exec(  # type: ignore[call-overload]
            update(CaptureMedia)
            .where(col(CaptureMedia.id).in_(analysed))
            .values(status=MediaStatus.analysed, next_try_at=None, last_error=None, data=None)
        )
    for media_id, reason in gave_up.items():
        session.exec(  # type: ignore[call-overload]
            update(CaptureMedia)
            .where(col(CaptureMedia.id) == media_id)
            .values(status=MediaStatus.unanalysed, next_try_at=None, last_error=reason[:500], data=None)
        )
    if gave_up:
        session.exec(  # type: ignore[call-overload]
            update(EmotionSample)
            .where(
                col(EmotionSample.media_id).in_(list(gave_up)), EmotionSample.status == SampleStatus.pending
            )
            .values(status=SampleStatus.unanalysed)
        )
    if dropped_faces or kept_voices:
        session.exec(
            delete(EmotionSample).where(col(EmotionSample.media_id).in_(dropped_faces + kept_voices))
        )
        if dropped_faces:
            session.exec(delete(CaptureMedia).where(col(CaptureMedia.id).in_(dropped_faces)))
        if kept_voices:
            session.exec(  # type: ignore[call-overload]
                update(CaptureMedia)
                .where(col(CaptureMedia.id).in_(kept_voices))
                .values(status=MediaStatus.kept, next_try_at=None, last_error=None)
            )
    _update_hints(session, latest_face, now)
    session.commit()
    applied.analysed = len(analysed)
    applied.samples = len(new_samples)
    applied.dropped = len(dropped_faces) + len(kept_voices)
    return applied


def _update_hints(session: Session, latest: dict[int, tuple[datetime, Outcome]], now: datetime) -> None:
    """Remember where each attempt's face was last found (the largest face of its newest analysed frame);
    forget it when that frame had none (its next frame is searched whole)."""
    for attempt_id, (_, outcome) in latest.items():
        faces = outcome.result.faces if isinstance(outcome.result, FrameResult) else []
        boxes = [f.box for f in faces]
        if not boxes:
            session.exec(delete(CaptureHint).where(col(CaptureHint.attempt_id) == attempt_id))
            continue
        box = max(boxes, key=lambda b: float(b[2]) * float(b[3]))
        values = {"box": ",".join(str(int(v)) for v in box), "updated_at": now}
        uses = CaptureHint.uses + 1 if outcome.roi else 0
        upsert = _insert_for(session)(CaptureHint).values(attempt_id=attempt_id, uses=0, **values)
        session.exec(
            upsert.on_conflict_do_update(index_elements=["attempt_id"], set_={**values, "uses": uses})
        )


def _insert_for(session: Session):
    """The dialect's INSERT with ON CONFLICT (PostgreSQL and SQLite both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
