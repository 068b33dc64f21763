"""Oral answers: play a recording back (with Range requests) and grade it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from web_server.api.deps import CurrentUser, SessionDep, SettingsDep, StaffUser
from web_server.models.attempt import AnswerRead, GradeSave
from web_server.services import attempts, grading, recordings

router = APIRouter(tags=["grading"])


@router.get(
    "/attempts/{attempt_id}/answers/{question_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/webm": {}}}, 206: {"description": "A byte range"}, 404: {}},
)
def read_recording(
    user: CurrentUser, attempt_id: int, question_id: int, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The recorded oral answer with its content type; `Range` requests are answered with 206 (seeking).
    The attempt's student, teachers and admins; 404 for anyone else."""
    found = recordings.recording_for(session, settings, user, attempt_id, question_id)
    return FileResponse(
        found.path,
        media_type=found.content_type,
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


@router.put("/attempts/{attempt_id}/answers/{question_id}/grade", responses={404: {}, 409: {}, 422: {}})
def grade_answer(
    user: StaffUser, attempt_id: int, question_id: int, body: GradeSave, session: SessionDep
) -> AnswerRead:
    """Grade an oral answer of a submitted attempt: `points` (0 to the question's `max_points`) and an
    optional `comment`. Once every recorded oral answer is graded, the attempt's score is their sum."""
    answer = grading.grade_answer(session, user, attempt_id, question_id, body)
    return attempts.answer_read(answer)
