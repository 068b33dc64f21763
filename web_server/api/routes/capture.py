"""Emotion capture during an attempt: webcam frames and oral answers, forwarded to the AI server."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from sqlmodel import Session, SQLModel

from web_server.ai_client import AIClient, get_ai_client
from web_server.api.deps import CurrentUser, SessionDep, SettingsDep
from web_server.capture import checks
from web_server.capture.upload import capture
from web_server.models.base import MAX_ID
from web_server.models.emotion import Modality, SampleRead

router = APIRouter(tags=["capture"])
AIDep = Annotated[AIClient, Depends(get_ai_client)]


class CaptureResult(SQLModel):
    """`analysed` (200): the samples stored. `pending` (202): kept, analysed later by the retry queue.
    `unanalysed` (202): kept (a recording) or dropped (a frame) without analysis: the queue is full.
    `saved` (200): a recording kept as the answer and not analysed (no voice-analysis consent, or emotion
    analysis off). `message` says what happened in words for the student."""

    status: Literal["analysed", "pending", "unanalysed", "saved"]
    samples: list[SampleRead]
    message: str | None = None


_RESPONSES = {
    202: {"description": "The AI server is unavailable: kept and queued (`pending`) or `unanalysed`."},
    403: {"description": "Not the attempt's student; frames without camera consent or with analysis off."},
    404: {"description": "Someone else's attempt, or a question not in this test."},
    409: {"description": "The attempt has been submitted."},
    413: {"description": "Too large (web server limit or the AI server's)."},
    415: {"description": "The AI server cannot decode the media (its message is passed on)."},
    422: {"description": "Missing or invalid field."},
    429: {"description": "Frames sent faster than FRAME_MIN_INTERVAL_S for this attempt (Retry-After)."},
}


async def _capture(
    request: Request,
    response: Response,
    session: Session,
    settings,
    ai: AIClient,
    user,
    attempt_id: int,
    question_id: int,
    modality: str,
    when: str,
    when_field: str,
    upload: UploadFile,
) -> CaptureResult:
    at = checks.parse_client_time(when, when_field)
    limit = settings.MAX_IMAGE_BYTES if modality == Modality.face else settings.MAX_AUDIO_BYTES
    data = await upload.read(limit + 1)
    engine = request.app.state.engine
    stored = await capture(
        session,
        lambda: Session(engine),
        settings,
        ai,
        user,
        attempt_id,
        question_id,
        modality,
        at,
        data,
        upload.filename or "",
        upload.content_type or "",
    )
    if stored.status not in ("analysed", "saved"):
        response.status_code = status.HTTP_202_ACCEPTED
    return CaptureResult(
        status=stored.status,
        samples=[SampleRead.model_validate(s, from_attributes=True) for s in stored.samples],
        message=stored.message,
    )


@router.post("/attempts/{attempt_id}/frames", responses=_RESPONSES)
async def post_frame(
    request: Request,
    response: Response,
    attempt_id: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    ai: AIDep,
    image: Annotated[UploadFile, File(description="A webcam frame: JPEG, PNG or WebP.")],
    captured_at: Annotated[str, Form(description="ISO 8601 time the frame was taken (browser clock).")],
    question_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The question on screen.")],
) -> CaptureResult:
    """Analyse one webcam frame: one face sample (the largest face; `faces` counts them, 0 = nobody).
    200 `analysed`; 202 `pending` when the AI server is down or slow (the frame is kept and queued)."""
    return await _capture(
        request, response, session, settings, ai, user, attempt_id, question_id, Modality.face, captured_at,
        "captured_at", image,
    )  # fmt: skip


@router.post("/attempts/{attempt_id}/audio", responses=_RESPONSES)
async def post_audio(
    request: Request,
    response: Response,
    attempt_id: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    ai: AIDep,
    audio: Annotated[UploadFile, File(description="The oral answer: WebM/Opus, Ogg, MP4, WAV, FLAC, MP3.")],
    question_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The oral question answered.")],
    started_at: Annotated[str, Form(description="ISO 8601 time the recording started (browser clock).")],
) -> CaptureResult:
    """Store the recording as the question's answer and analyse it: one voice sample per segment, timed
    `started_at` + segment offset. 200 `analysed`; 202 `pending` when the AI server is down or slow (the
    recording and the answer are kept; the analysis follows)."""
    return await _capture(
        request, response, session, settings, ai, user, attempt_id, question_id, Modality.voice, started_at,
        "started_at", audio,
    )  # fmt: skip
