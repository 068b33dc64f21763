"""The upload flow of one frame or recording: check, analyse or queue, store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from anyio import to_thread
from sqlmodel import Session

from web_server.ai_client import AIClient, AIRejected, AIUnavailable
from web_server.capture.checks import (
    MediaRejected,
    check_content_type,
    check_size,
    open_attempt_for_capture,
    oral_question_check,
)
from web_server.capture.store import Stored, store_analysed, store_kept, store_pending
from web_server.core.config import Settings
from web_server.models.emotion import Modality
from web_server.models.user import User
from web_server.services import capture_rules
from web_server.services.attempts import get_attempt_for

log = logging.getLogger(__name__)


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
