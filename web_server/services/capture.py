"""Emotion capture: webcam frames and oral answers -> AI server -> emotion samples.

The flow for one upload (`capture_frame`, `capture_audio`):

1. check the attempt (own student, still open) and the question (part of the attempt's test);
2. send the bytes to the AI server;
3. analysed: store the samples (and, for audio, the recording as the question's answer) -> `analysed`;
   refused by the AI server (bad media): nothing is stored, the AI server's message goes back as a 4xx;
   AI server down, slow or overloaded: the media are kept on disk under MEDIA_DIR with a `pending` placeholder
   sample, and the recording is saved as the answer all the same -> `pending`. The retry worker
   (`RetryWorker`) analyses them later with exponential backoff; after RETRY_MAX_ATTEMPTS tries, or when
   RETRY_QUEUE_MAX media are already waiting, they are marked `unanalysed`.

Database work is synchronous (SQLModel sessions) and runs in worker threads; file I/O too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine, delete, func, update
from sqlmodel import Session, select

from web_server.ai_client import AIClient, AIRejected, AIUnavailable
from web_server.core.config import Settings
from web_server.models.attempt import Answer, Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample, MediaStatus, Modality, SampleStatus
from web_server.models.test import Question, Test, TestKind
from web_server.models.user import Role, User
from web_server.services import capture_rules, media_store
from web_server.services.attempts import get_attempt_for, get_open_attempt_for_student, set_answer_recording
from web_server.services.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMedia,
)

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
AUDIO_EXTENSIONS = {
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
}


class MediaRejected(DomainError):
    """The AI server refused the media; carries its status code (413, 415, 422...) and message."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code if 400 <= status_code < 500 else 422


# --- checks ----------------------------------------------------------------------------------------


def open_attempt_for_capture(session: Session, attempt_id: int, user: User, question_id: int) -> Attempt:
    """The attempt if `user` is its student and it is open (locked for update), and `question_id` is one
    of its questions: 404 (someone else's), 403 (not a student), 409 (submitted) otherwise."""
    if user.role != Role.student:
        raise Forbidden("Only the student taking this attempt can send webcam frames or recordings.")
    attempt = get_open_attempt_for_student(session, user, attempt_id)
    question = session.get(Question, question_id)
    if question is None or question.test_id != attempt.test_id:
        raise NotFound(f"Question {question_id} is not part of this test.")
    return attempt


def oral_question_check(session: Session, attempt: Attempt) -> None:
    test = session.get(Test, attempt.test_id)
    if test is None or test.kind != TestKind.oral:
        raise InvalidInput("Recordings are answers to oral tests; this test is single choice.")


EARLIEST_CLIENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_CLIENT_TIME = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_client_time(value: str, field_name: str) -> datetime:
    """An ISO 8601 time from the browser, as UTC (a time without offset is taken as UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{field_name} must be an ISO 8601 date and time, e.g. 2026-03-01T09:30:00.000Z (got {value!r})."
        ) from None
    try:
        at = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past the year 9999 in UTC
        at = None
    if at is None or not EARLIEST_CLIENT_TIME <= at <= LATEST_CLIENT_TIME:
        raise InvalidInput(
            f"{field_name} must be a time between the years {EARLIEST_CLIENT_TIME.year} and "
            f"{LATEST_CLIENT_TIME.year} (got {value!r}): check the computer's clock."
        )
    return at


def check_content_type(content_type: str) -> None:
    """The upload's Content-Type is stored with it: at most 100 printable characters (415 otherwise)."""
    if len(content_type) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in content_type):
        raise UnsupportedMedia(
            "The file's Content-Type is not valid: at most 100 characters, without control characters."
        )


def check_size(data: bytes, limit: int, what: str) -> None:
    if not data:
        raise InvalidInput(f"The {what} is empty (0 bytes).")
    if len(data) > limit:
        raise PayloadTooLarge(f"The {what} is {len(data)} bytes; the limit is {limit} bytes.")


# --- results -> samples ----------------------------------------------------------------------------


def offset_ms(attempt: Attempt, at: datetime) -> int:
    """Milliseconds from the attempt's start (0 for times before it, e.g. a skewed browser clock)."""
    started = attempt.started_at if attempt.started_at.tzinfo else attempt.started_at.replace(tzinfo=UTC)
    return max(0, round((at - started).total_seconds() * 1000))


def face_sample(attempt: Attempt, question_id: int, at: datetime, result: dict, media_id: int | None):
    """One sample per frame: the largest face's prediction; `faces` counts every face (0: nobody)."""
    faces = [f for f in result.get("faces") or [] if isinstance(f, dict)]
    main = max(faces, key=lambda f: _box_area(f.get("box")), default=None)
    return EmotionSample(
        attempt_id=attempt.id,
        question_id=question_id,
        media_id=media_id,
        modality=Modality.face,
        captured_at=at,
        offset_ms=offset_ms(attempt, at),
        emotion=main.get("emotion") if main else None,
        confidence=_float(main.get("confidence")) if main else None,
        scores=_scores(main.get("scores")) if main else None,
        faces=len(faces),
        status=_status(main),
    )


def voice_samples(
    attempt: Attempt, question_id: int, started_at: datetime, result: dict, media_id: int | None
) -> list[EmotionSample]:
    """One sample per segment, timed `started_at + start_s` (a recording without speech gives none)."""
    samples = []
    for seg in result.get("segments") or []:
        start, end = _float(seg.get("start_s")) or 0.0, _float(seg.get("end_s")) or 0.0
        at = started_at + timedelta(seconds=start)
        samples.append(
            EmotionSample(
                attempt_id=attempt.id,
                question_id=question_id,
                media_id=media_id,
                modality=Modality.voice,
                captured_at=at,
                offset_ms=offset_ms(attempt, at),
                emotion=seg.get("emotion"),
                confidence=_float(seg.get("confidence")),
                scores=_scores(seg.get("scores")),
                status=_status(seg),
                segment_start_s=start,
                segment_end_s=max(start, end),
            )
        )
    return samples


def samples_from_result(
    attempt: Attempt, question_id: int, modality: str, at: datetime, result: dict, media_id: int | None
) -> list[EmotionSample]:
    """The samples of an analysed frame (one) or recording (one per segment)."""
    if modality == Modality.face:
        return [face_sample(attempt, question_id, at, result, media_id)]
    return voice_samples(attempt, question_id, at, result, media_id)


def _status(prediction: dict | None) -> SampleStatus:
    """`uncertain` when the AI server flagged the prediction as unreliable, else `ok`."""
    return SampleStatus.uncertain if prediction and prediction.get("uncertain") else SampleStatus.ok


def _box_area(box: object) -> float:
    if isinstance(box, list | tuple) and len(box) == 4:
        return float(box[2]) * float(box[3])
    return 0.0


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _scores(value: object) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): float(v) for k, v in value.items() if _float(v) is not None}


# --- media files -------------------------------------------------------------------------------------


def media_path(media_dir: Path, relative: str) -> Path:
    return media_dir / relative


def staged_media(
    settings: Settings, attempt_id: int, modality: str, data: bytes, content_type: str, keep: bool = True
) -> contextlib.AbstractContextManager[media_store.StagedFile | None]:
    """The bytes as a file under MEDIA_DIR/attempts/<attempt>/<modality>/ (owner-only), published when
    the `with` block (which stores and commits the rows) succeeds, removed when it fails; None: not kept."""
    if not keep:
        return contextlib.nullcontext(None)
    table = IMAGE_EXTENSIONS if modality == Modality.face else AUDIO_EXTENSIONS
    ext = table.get((content_type or "").split(";")[0].strip().lower(), ".bin")
    return media_store.staged(settings.MEDIA_DIR, f"attempts/{int(attempt_id)}/{modality}", ext, data)


def remove_attempt_media(media_dir: Path, attempt_ids: list[int]) -> None:
    """Delete the media folders of attempts being deleted (frames, recordings, pending uploads)."""
    for attempt_id in attempt_ids:
        shutil.rmtree(media_dir / "attempts" / str(int(attempt_id)), ignore_errors=True)


def remove_media_file(media_dir: Path, relative: str | None) -> None:
    if relative:
        with contextlib.suppress(FileNotFoundError):
            (media_dir / relative).unlink()


# --- storing -------------------------------------------------------------------------------------------


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
    """What an upload produced: `status` analysed | pending | unanalysed, and the samples stored."""

    status: str
    samples: list[EmotionSample] = field(default_factory=list)
    media_id: int | None = None
    message: str | None = None


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


def store_analysed(
    session: Session,
    settings: Settings,
    user: User,
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
    result: dict,
) -> Stored:
    """Store an analysed upload: samples; the recording (audio) or the frame if STORE_RAW_FRAMES."""
    keep = modality == Modality.voice or settings.STORE_RAW_FRAMES
    with staged_media(settings, attempt.id, modality, data, content_type, keep) as file:
        media = None
        if file is not None:
            media = _media_row(
                attempt, question_id, modality, at, data, content_type, file.relative, MediaStatus.analysed
            )
            session.add(media)
            session.flush()
        media_id = media.id if media else None
        samples = samples_from_result(attempt, question_id, modality, at, result, media_id)
        session.add_all(samples)
        session.flush()
        if modality == Modality.voice:  # commits the rows above with the answer
            _save_recording_answer(session, settings, user, attempt.id, question_id, file.relative)
        session.add_all([media, *samples] if media else samples)
        session.commit()
    for s in samples:
        session.refresh(s)
    return Stored(MediaStatus.analysed, samples, media_id)


def store_pending(
    session: Session,
    settings: Settings,
    user: User,
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    content_type: str,
    reason: str,
) -> Stored:
    """Keep an upload the AI server could not analyse now; queue it, or mark it unanalysed if the queue
    is full (a recording is kept as the answer in both cases; a frame is dropped when not queued)."""
    refusal = capture_rules.queue_refusal(session, settings, attempt.id, modality)
    queued = refusal is None
    status = MediaStatus.pending if queued else MediaStatus.unanalysed
    keep_file = queued or modality == Modality.voice or settings.STORE_RAW_FRAMES
    with staged_media(settings, attempt.id, modality, data, content_type, keep_file) as file:
        relative = file.relative if file else None
        media = _media_row(attempt, question_id, modality, at, data, content_type, relative, status)
        media.next_try_at = utcnow() + timedelta(seconds=settings.RETRY_BACKOFF_S) if queued else None
        media.last_error = (reason if queued else f"{reason} The retry queue is full.")[:500]
        session.add(media)
        session.flush()
        sample = EmotionSample(
            attempt_id=attempt.id,
            question_id=question_id,
            media_id=media.id,
            modality=modality,
            captured_at=at,
            offset_ms=offset_ms(attempt, at),
            status=SampleStatus.pending if queued else SampleStatus.unanalysed,
        )
        session.add(sample)
        session.flush()
        if modality == Modality.voice and relative:  # commits the rows above with the answer
            _save_recording_answer(session, settings, user, attempt.id, question_id, relative)
        session.add_all([media, sample])
        session.commit()
    session.refresh(sample)
    if queued:
        what = "frame" if modality == Modality.face else "recording (your answer is saved)"
        message = f"{reason} This {what} is kept and queued: it will be analysed when the AI server answers."
    elif modality == Modality.face:
        message = (
            f"The AI server is not available and {refusal}: this frame was not kept and will not be analysed."
        )
    else:
        message = (
            f"Your answer is saved, but the AI server is not available and {refusal}: "
            "this recording will not be analysed for emotion."
        )
    return Stored(str(status), [sample], media.id, message)


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


# --- the upload flow -----------------------------------------------------------------------------------


SessionFactory = Callable[[], Session]


async def capture(
    request_session: Session,
    sessions: SessionFactory,
    settings: Settings,
    ai: AIClient,
    user: User,
    attempt_id: int,
    question_id: int,
    modality: str,
    at: datetime,
    data: bytes,
    filename: str,
    content_type: str,
) -> Stored:
    """Check, analyse, store one frame (`at` = captured_at) or recording (`at` = started_at).

    The checks use the request's session, which is then closed: no database connection is held while the
    AI server works (a class of uploads would otherwise exhaust the pool); storing opens a new session.
    """
    limit = settings.MAX_IMAGE_BYTES if modality == Modality.face else settings.MAX_AUDIO_BYTES
    check_size(data, limit, "image" if modality == Modality.face else "recording")
    check_content_type(content_type)

    def check() -> str | None:
        """Ownership, consent and mode (services/capture_rules.py), the frame rate; for a recording, why it
        is not to be analysed (None: analyse it)."""
        try:
            attempt = open_attempt_for_capture(request_session, attempt_id, user, question_id)
            if modality == Modality.voice:
                oral_question_check(request_session, attempt)
                return capture_rules.recording_analysis_refusal(request_session, settings, attempt)
            capture_rules.check_frame_allowed(request_session, settings, attempt)
            capture_rules.claim_frame_slot(request_session, settings, attempt.id)
            return None
        finally:
            request_session.close()

    not_analysed = await to_thread.run_sync(check)
    if not_analysed is not None:  # kept as the answer, never sent to the AI server
        return await to_thread.run_sync(
            _in_session, sessions, store_kept, settings, user, attempt_id, question_id, modality, at, data,
            content_type, not_analysed,
        )  # fmt: skip
    try:
        if modality == Modality.face:
            result = await ai.face(data, filename or "frame.jpg", content_type or "image/jpeg")
        else:
            result = await ai.voice(data, filename or "answer.webm", content_type or "audio/webm")
    except AIRejected as exc:
        raise MediaRejected(exc.status_code, exc.message) from exc
    except AIUnavailable as exc:
        reason = exc.message
        return await to_thread.run_sync(
            _in_session, sessions, store_pending, settings, user, attempt_id, question_id, modality, at, data,
            content_type, reason,
        )  # fmt: skip
    return await to_thread.run_sync(
        _in_session, sessions, store_analysed, settings, user, attempt_id, question_id, modality, at, data,
        content_type, result,
    )  # fmt: skip


def modality_of(store_args: tuple) -> str:
    """The modality among a store function's arguments after `question_id` (modality, at, data, ...)."""
    return store_args[0]


def _in_session(
    sessions: SessionFactory, fn, settings: Settings, user: User, attempt_id: int, question_id: int, *args
) -> Stored:
    """Run a store function on the attempt. A frame that arrived while the attempt was open is kept even if
    the student submitted during its analysis; a recording must still be accepted as an answer (409)."""
    with sessions() as session:
        attempt = get_attempt_for(session, user, attempt_id)
        if fn is not store_kept:  # consent may have been withdrawn while the AI server worked
            session.refresh(attempt, with_for_update=True)
            if modality_of(args) == Modality.face:
                capture_rules.check_frame_allowed(session, settings, attempt)
            else:
                refusal = capture_rules.recording_analysis_refusal(session, settings, attempt)
                if refusal is not None:
                    fn, args = store_kept, (*args[:-1], refusal)
        stored = fn(session, settings, user, attempt, question_id, *args)
        session.expunge_all()
        return stored


# --- retry queue -----------------------------------------------------------------------------------------


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


class RetryWorker:
    """Background task of the web app: analyses pending media when the AI server answers again."""

    def __init__(self, sessions: SessionFactory, settings: Settings, ai: AIClient, batch: int = 16) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ai = ai
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._last_sweep = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="capture-retry-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if (
                    loop.time() - self._last_sweep >= self.settings.MEDIA_SWEEP_INTERVAL_S
                    or not self._last_sweep
                ):
                    self._last_sweep = loop.time()
                    await asyncio.to_thread(self._with_session, sweep_media, self.settings)
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the worker alive whatever a single round hit (DB restart...)
                log.exception("capture retry worker round failed")
                done = 0
            if done < self.batch:
                await asyncio.sleep(self.settings.RETRY_POLL_S)

    def _with_session(self, fn, *args):
        with self.sessions() as session:
            return fn(session, *args)

    async def run_once(self) -> int:
        """Try every due pending media once; returns how many were tried."""
        lease = 2 * self.settings.AI_TIMEOUT_S * self.batch  # longer than a whole batch of tries
        due = await asyncio.to_thread(self._with_session, claim_due_media, utcnow(), self.batch, lease)
        for media in due:
            await self._retry(media)
        return len(due)

    async def _retry(self, media: CaptureMedia) -> None:
        path = self.settings.MEDIA_DIR / media.path if media.path else None
        try:
            data = await asyncio.to_thread(path.read_bytes) if path else None
        except OSError:
            data = None
        if not data:
            await asyncio.to_thread(
                self._with_session, give_up, self.settings, media.id, "The file is missing."
            )
            return
        try:
            if media.modality == Modality.face:
                result = await self.ai.face(data, path.name, media.content_type, fail_fast=False)
            else:
                result = await self.ai.voice(data, path.name, media.content_type, fail_fast=False)
        except AIRejected as exc:
            await asyncio.to_thread(self._with_session, give_up, self.settings, media.id, exc.message)
        except AIUnavailable as exc:
            await asyncio.to_thread(self._with_session, schedule_retry, self.settings, media.id, exc.message)
        else:
            await asyncio.to_thread(self._with_session, apply_retry_result, self.settings, media.id, result)


@contextlib.asynccontextmanager
async def capture_runtime(state: Any, settings: Settings, engine: Engine) -> AsyncIterator[None]:
    """For the web app's lifespan: the pooled AI client (`state.ai_client`) and the retry worker."""
    ai = AIClient(
        settings.AI_SERVER_URL,
        timeout_s=settings.AI_TIMEOUT_S,
        connect_timeout_s=settings.AI_CONNECT_TIMEOUT_S,
        max_connections=settings.AI_MAX_CONNECTIONS,
        breaker_s=settings.AI_BREAKER_S,
    )
    worker = RetryWorker(lambda: Session(engine), settings, ai)
    state.ai_client = ai
    state.retry_worker = worker
    worker.start()
    try:
        yield
    finally:
        await worker.stop()
        await ai.aclose()
