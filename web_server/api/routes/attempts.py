"""Attempts: start/resume, autosave answers, submit; reading and listing with ownership checks."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from web_server.api.deps import CurrentUser, QueryId, SessionDep, StudentUser
from web_server.models.attempt import AnswerRead, AnswerSave, AttemptRead, AttemptStart, ResultRead
from web_server.services import attempts

router = APIRouter(tags=["attempts"])


@router.post("/tests/{test_id}/attempts", status_code=status.HTTP_201_CREATED, responses={200: {}, 409: {}})
def start_attempt(
    user: StudentUser,
    test_id: int,
    session: SessionDep,
    response: Response,
    body: AttemptStart | None = None,
) -> AttemptRead:
    """201 with a new attempt, or 200 with the open one (resume); 409 once submitted. The optional body
    `{camera, microphone}` records what the student allowed (a resume updates the fields given)."""
    result = attempts.start_attempt(session, user, test_id, body)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return attempts.to_read(result.attempt)


@router.get("/attempts")
def list_attempts(
    user: CurrentUser,
    session: SessionDep,
    test_id: QueryId = None,
    student_id: QueryId = None,
    submitted: bool | None = None,
) -> list[AttemptRead]:
    """Students: their own. Teachers and admins: all, filterable."""
    return [
        attempts.to_read(a) for a in attempts.list_attempts(session, user, test_id, student_id, submitted)
    ]


@router.get("/attempts/{attempt_id}")
def read_attempt(user: CurrentUser, attempt_id: int, session: SessionDep) -> AttemptRead:
    return attempts.to_read(attempts.get_attempt_for(session, user, attempt_id))


@router.put("/attempts/{attempt_id}/answers/{question_id}")
def save_answer(
    user: StudentUser, attempt_id: int, question_id: int, body: AnswerSave, session: SessionDep
) -> AnswerRead:
    """Store, change or clear (null) the answer at once; repeating a save is harmless. 409 after submit."""
    return attempts.answer_read(
        attempts.save_answer(session, user, attempt_id, question_id, body.selected_option)
    )


@router.post("/attempts/{attempt_id}/submit")
def submit_attempt(user: StudentUser, attempt_id: int, session: SessionDep) -> AttemptRead:
    """Score and close the attempt; submitting again returns the same result."""
    return attempts.to_read(attempts.submit_attempt(session, user, attempt_id))


@router.get("/results")
def list_results(
    user: CurrentUser, session: SessionDep, test_id: QueryId = None, student_id: QueryId = None
) -> list[ResultRead]:
    """Submitted attempts. Students: their own. Teachers and admins: all, filterable by test and student."""
    return attempts.list_results(session, user, test_id, student_id)
