"""Emotion capture during an attempt: webcam frames and oral answers, queued for the analysis workers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from sqlmodel import Session, SQLModel

from web_server.api.deps import CurrentUser, SessionDep, SettingsDep
from web_server.api.responses import errors
from web_server.capture import checks, metrics
from web_server.capture.store import Upload
from web_server.capture.upload import capture
from web_server.models.base import MAX_ID
from web_server.models.emotion import Modality, SampleRead
from web_server.services.errors import ServiceUnavailable

router = APIRouter(tags=["capture"])


class CaptureResult(SQLModel):
    """`pending` (202): kept and queued; the analysis workers analyse it within seconds (`delayed`: the
    analysis is behind, e.g. the AI server is down: it is analysed when it answers). `unanalysed` (202):
    kept (a recording, as the answer) or dropped (a frame) without analysis: the queue is full. `saved`
    (200): a recording kept as the answer and not analysed (no voice-analysis consent, or emotion analysis
    off). `samples`: the placeholder samples (status `pending` or `unanalysed`) that the analysis replaces.
    `message` says what happened in words for the student."""

    status: Literal["pending", "unanalysed", "saved"]
    samples: list[SampleRead]
    message: str | None = None
    delayed: bool = False


_RESPONSES = {
    202: {
        "model": CaptureResult,
        "description": "Kept and queued for analysis (`pending`), or `unanalysed` (the queue is full).",
    },
    **errors(
        400, 401, 403, 404, 409, 413, 415, 422, 429, 503,
        descriptions={
            403: "Not the attempt's student; frames without camera consent or with analysis off.",
            404: "Someone else's attempt, or a question not in this test.",
            409: "The attempt has been submitted.",
            413: "The upload is too large.",
            415: "Not a supported picture or recording, or a bad Content-Type.",
            429: "Frames faster than FRAME_MIN_INTERVAL_S for this attempt: not stored (Retry-After).",
            503: "A frame while the analysis queue is full or this server is busy, or the database cannot "
            "be reached: not stored (Retry-After).",
        },
    ),
}  # fmt: skip


async def _capture(
    request: Request,
    response: Response,
    session: Session,
    settings,
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
    state = request.app.state
    in_flight = getattr(state, "uploads_in_flight", 0)
    if modality == Modality.face and in_flight >= settings.UPLOADS_IN_FLIGHT_MAX:
        # this process is saturated: turn the frame away at once rather than let it queue for a connection
        metrics.UPLOADS.labels(modality=modality, status="busy").inc()
        raise ServiceUnavailable(
            "The server is busy: this frame was not stored. Send the next one in 2 s.",
            headers={"Retry-After": "2"},
        )
    state.uploads_in_flight = in_flight + 1
    try:
        media = Upload(user, attempt_id, question_id, modality, at, data, upload.content_type or "")
        stored = await capture(session, settings, state.analysis_health, media)
    finally:
        state.uploads_in_flight -= 1
    metrics.UPLOADS.labels(modality=modality, status=stored.status).inc()
    if stored.status != "saved":
        response.status_code = status.HTTP_202_ACCEPTED
    return CaptureResult(
        status=stored.status,
        samples=[SampleRead.model_validate(s, from_attributes=True) for s in stored.samples],
        message=stored.message,
        delayed=stored.delayed,
    )


@router.post("/attempts/{attempt_id}/frames", responses=_RESPONSES)
async def post_frame(
    request: Request,
    response: Response,
    attempt_id: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    image: Annotated[UploadFile, File(description="A webcam frame: JPEG, PNG or WebP.")],
    captured_at: Annotated[str, Form(description="ISO 8601 time the frame was taken (browser clock).")],
    question_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The question on screen.")],
) -> CaptureResult:
    """Queue one webcam frame for analysis (202 `pending`): it becomes one face sample (the largest face;
    `faces` counts them, 0 = nobody) when a worker has analysed it."""
    return await _capture(
        request, response, session, settings, user, attempt_id, question_id, Modality.face, captured_at,
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
    audio: Annotated[UploadFile, File(description="The oral answer: WebM/Opus, Ogg, MP4, WAV, FLAC, MP3.")],
    question_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The oral question answered.")],
    started_at: Annotated[str, Form(description="ISO 8601 time the recording started (browser clock).")],
) -> CaptureResult:
    """Store the recording as the question's answer and queue it for analysis (202 `pending`): one voice
    sample per segment, timed `started_at` + segment offset, once a worker has analysed it. Without
    voice-analysis consent (or with analysis off): 200 `saved`, kept as the answer only."""
    return await _capture(
        request, response, session, settings, user, attempt_id, question_id, Modality.voice, started_at,
        "started_at", audio,
    )  # fmt: skip
