"""Upload checks: the attempt (own student, still open), the question, the client's time, the size and
the Content-Type of an upload, before anything is stored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session

from web_server.models.attempt import Attempt
from web_server.models.test import Question, Test, TestKind
from web_server.models.user import Role, User
from web_server.services.attempts import get_open_attempt_for_student
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
