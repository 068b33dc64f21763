"""Upload checks: the attempt (own student, still open), the question, the client's time, the size and
the Content-Type of an upload, before anything is stored; the facts of an attempt that never change, cached
so that a frame does not read them again (`attempt_facts`)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from web_server.models.attempt import Attempt
from web_server.models.base import is_valid_id
from web_server.models.test import Question, Test, TestKind
from web_server.models.user import Role, User
from web_server.services.attempts import get_open_attempt_for_student
from web_server.services.errors import (
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


def sniff_image(data: bytes) -> str | None:
    """'jpeg', 'png' or 'webp' from the first bytes (as the AI server reads them), else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def sniff_audio(data: bytes) -> str | None:
    """A recording's container from its first bytes (WebM, Ogg, MP4, WAV, FLAC, MP3), else None."""
    head = data[:12]
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def check_media_type(data: bytes, is_image: bool) -> None:
    """415 for bytes that are no picture (JPEG, PNG, WebP) or no recording: refused before anything is
    stored. What passes and still cannot be decoded is refused by the AI server later (`unanalysed`)."""
    if is_image and sniff_image(data) is None:
        raise UnsupportedMedia("The upload is not a supported image; send JPEG, PNG or WebP.")
    if not is_image and sniff_audio(data) is None:
        raise UnsupportedMedia(
            "The upload is not a supported audio recording; send WebM/Opus, Ogg, MP4, WAV, FLAC or MP3."
        )


# --- the facts of an attempt -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptFacts:
    """What never changes in an attempt: whose it is, its test and start, the test's questions. Whether it
    is open, its consent and its mode do change: they are checked on every frame (`claim_frame`), and that
    guarded UPDATE also checks the student and test below, so facts that went stale (an attempt id reused
    after a deletion) fail it and are read again."""

    id: int
    student_id: int
    test_id: int
    started_at: datetime
    question_ids: frozenset[int]


FACTS_TTL_S = 60.0
FACTS_MAX = 20_000  # attempts remembered per database engine (a few MB at most)


class _FactsCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[int, tuple[float, AttemptFacts]] = OrderedDict()

    def get(self, attempt_id: int) -> AttemptFacts | None:
        with self._lock:
            item = self._items.get(attempt_id)
            if item is None or time.monotonic() - item[0] > FACTS_TTL_S:
                return None
            return item[1]

    def put(self, facts: AttemptFacts) -> None:
        with self._lock:
            self._items[facts.id] = (time.monotonic(), facts)
            self._items.move_to_end(facts.id)
            while len(self._items) > FACTS_MAX:
                self._items.popitem(last=False)

    def forget(self, attempt_id: int) -> None:
        with self._lock:
            self._items.pop(attempt_id, None)


_caches: weakref.WeakKeyDictionary[Engine, _FactsCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_for(session: Session) -> _FactsCache:
    engine = session.get_bind()
    engine = getattr(engine, "engine", engine)  # a Connection's engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _FactsCache()
        return cache


def attempt_facts(session: Session, attempt_id: int, fresh: bool = False) -> AttemptFacts | None:
    """The attempt's facts from this process's cache (per database), else read (two statements); None when
    there is no such attempt."""
    cache = _cache_for(session)
    facts = None if fresh else cache.get(attempt_id)
    if facts is not None:
        return facts
    attempt = session.get(Attempt, attempt_id) if is_valid_id(attempt_id) else None
    if attempt is None:
        cache.forget(attempt_id)
        return None
    questions = session.exec(select(Question.id).where(Question.test_id == attempt.test_id)).all()
    facts = AttemptFacts(
        attempt.id, attempt.student_id, attempt.test_id, attempt.started_at, frozenset(questions)
    )
    cache.put(facts)
    return facts


def forget_attempt_facts(session: Session, attempt_id: int) -> None:
    _cache_for(session).forget(attempt_id)


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
