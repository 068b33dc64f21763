"""Oral answers' recordings, read back for the attempt's student, teachers and admins.

A recording is the answer itself (not emotion data): teachers listen to it in every analysis mode. The file
lives in the media store (services/media_store.py); its content type is the one it was uploaded with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select
from starlette.responses import FileResponse, MalformedRangeHeader
from starlette.responses import RangeNotSatisfiable as StarletteRangeNotSatisfiable

from web_server.core.config import Settings
from web_server.models.attempt import Answer
from web_server.models.emotion import CaptureMedia
from web_server.models.user import User
from web_server.services.attempts import get_attempt_for
from web_server.services.errors import BadRequest, NotFound, RangeNotSatisfiable

_SAFE_TYPES = {"audio/webm", "audio/ogg", "audio/mp4", "audio/wav", "audio/x-wav", "audio/flac", "audio/mpeg"}
RECORDING_TYPES = [*sorted(_SAFE_TYPES), "application/octet-stream"]
"""Every content type a recording is served with (anything else as `application/octet-stream`)."""


@dataclass
class Recording:
    path: Path
    content_type: str


def recording_for(
    session: Session, settings: Settings, user: User, attempt_id: int, question_id: int
) -> Recording:
    """The recorded answer; 404 for someone else's attempt, no recording, or a file past retention."""
    attempt = get_attempt_for(session, user, attempt_id)
    relative = session.exec(
        select(Answer.recording_path).where(
            Answer.attempt_id == attempt.id, Answer.question_id == question_id
        )
    ).first()
    if not relative:
        raise NotFound("This question has no recorded answer.")
    root = Path(settings.MEDIA_DIR).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("The recording is no longer kept (retention period).")
    stored = session.exec(select(CaptureMedia.content_type).where(CaptureMedia.path == relative)).first()
    content_type = (stored or "").split(";")[0].strip().lower()
    content_type = "audio/webm" if content_type == "video/webm" else content_type  # some browsers' recorders
    return Recording(path, content_type if content_type in _SAFE_TYPES else "application/octet-stream")


def check_range(headers: Mapping[str, str], recording: Recording) -> None:
    """A malformed `Range` (400) or one past the end (416) is refused with the error body, as Starlette's
    FileResponse (which answers those in plain text) would refuse it. Without `If-Range` only: with it,
    the FileResponse decides whether the range applies."""
    header = headers.get("range")
    if header is None or headers.get("if-range") is not None:
        return
    try:
        FileResponse._parse_range_header(header, recording.path.stat().st_size)
    except MalformedRangeHeader as exc:
        raise BadRequest(f"The Range header is not valid: {exc.content}") from exc
    except StarletteRangeNotSatisfiable as exc:
        raise RangeNotSatisfiable(
            f"The Range asked for is outside the recording ({exc.max_size} bytes).",
            headers={"Content-Range": f"bytes */{exc.max_size}"},
        ) from exc
