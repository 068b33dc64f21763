"""Oral answers: play a recording back (with Range requests) and grade it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from web_server.api.deps import CurrentUser, SessionDep, SettingsDep, StaffUser
from web_server.api.responses import content, errors
from web_server.models.attempt import AnswerRead, GradeSave
from web_server.services import attempts, grading, recordings
from web_server.services.recordings import RECORDING_TYPES

router = APIRouter(tags=["grading"])


@router.get(
    "/attempts/{attempt_id}/answers/{question_id}/recording",
    response_class=FileResponse,
    responses={
        200: content(RECORDING_TYPES, "The recording, in the content type it was uploaded with."),
        206: content([*RECORDING_TYPES, "multipart/byteranges"], "The byte range(s) asked for with `Range`."),
        **errors(400, 401, 404, 416, 422, descriptions={400: "A malformed `Range` header."}),
    },
)
def read_recording(
    request: Request,
    user: CurrentUser,
    attempt_id: int,
    question_id: int,
    session: SessionDep,
    settings: SettingsDep,
) -> FileResponse:
    """The recorded oral answer with its content type; `Range` requests are answered with 206 (seeking).
    The attempt's student, teachers and admins; 404 for anyone else."""
    found = recordings.recording_for(session, settings, user, attempt_id, question_id)
    recordings.check_range(request.headers, found)
    return FileResponse(
        found.path,
        media_type=found.content_type,
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


@router.put(
    "/attempts/{attempt_id}/answers/{question_id}/grade", responses=errors(400, 401, 403, 404, 409, 413, 422)
)
def grade_answer(
    user: StaffUser, attempt_id: int, question_id: int, body: GradeSave, session: SessionDep
) -> AnswerRead:
    """Grade an oral answer of a submitted attempt: `points` (0 to the question's `max_points`) and an
    optional `comment`. Once every recorded oral answer is graded, the attempt's score is their sum."""
    answer = grading.grade_answer(session, user, attempt_id, question_id, body)
    return attempts.answer_read(answer)
