"""Attempts: start/resume, autosave answers, submit; reading and listing with ownership checks."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from web_server.api.deps import CurrentUser, QueryId, SessionDep, SettingsDep, StudentUser
from web_server.api.responses import errors
from web_server.models.attempt import (
    AnswerRead,
    AnswerSave,
    AttemptRead,
    AttemptStart,
    ConsentChange,
    ConsentEventRead,
    ResultRead,
)
from web_server.services import attempts, consent

router = APIRouter(tags=["attempts"])


@router.post(
    "/tests/{test_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": AttemptRead, "description": "The open attempt (resumed)."},
        **errors(400, 401, 403, 404, 409, 413, 422),
    },
)
def start_attempt(
    user: StudentUser,
    test_id: int,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    body: AttemptStart | None = None,
) -> AttemptRead:
    """201 with a new attempt, or 200 with the open one (resume); 409 once submitted. The optional body
    `{camera, microphone}` records what the student allowed (a resume updates the fields given); `camera`:
    webcam frames may be analysed, `microphone`: oral recordings may be analysed (null counts as no)."""
    result = attempts.start_attempt(session, settings, user, test_id, body)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _read(session, settings, result.attempt, user)


def _read(session, settings, attempt, user) -> AttemptRead:
    mode = attempts.effective_modes(session, settings, [attempt])[attempt.id]
    return attempts.to_read(attempt, mode, attempts.answer_key(session, user, attempt))


@router.put("/attempts/{attempt_id}/consent", responses=errors(400, 401, 403, 404, 409, 413, 422))
def change_consent(
    user: StudentUser, attempt_id: int, body: ConsentChange, session: SessionDep, settings: SettingsDep
) -> AttemptRead:
    """Give, change or withdraw consent (`camera`, `microphone`; fields left out do not change). Withdrawing
    deletes what was analysed under it: the modality's emotion samples, queued media and kept frames (oral
    recordings stay as the answers, never analysed). Giving consent needs an open attempt (409 after submit);
    withdrawing is always possible."""
    changed = consent.change(session, settings, user, attempt_id, body.model_dump(exclude_unset=True))
    return _read(session, settings, changed, user)


@router.get("/attempts/{attempt_id}/consent", responses=errors(401, 404, 422))
def consent_history(user: CurrentUser, attempt_id: int, session: SessionDep) -> list[ConsentEventRead]:
    """The consent history of an attempt (every value given, oldest first)."""
    attempt = attempts.get_attempt_for(session, user, attempt_id)
    return consent.history(session, [attempt.id])


@router.get("/attempts", responses=errors(401, 422))
def list_attempts(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    test_id: QueryId = None,
    student_id: QueryId = None,
    submitted: bool | None = None,
) -> list[AttemptRead]:
    """Students: their own. Teachers and admins: all, filterable."""
    found = attempts.list_attempts(session, user, test_id, student_id, submitted)
    mode = attempts.effective_modes(session, settings, found)
    return [attempts.to_read(a, mode[a.id]) for a in found]


@router.get("/attempts/{attempt_id}", responses=errors(401, 404, 422))
def read_attempt(
    user: CurrentUser, attempt_id: int, session: SessionDep, settings: SettingsDep
) -> AttemptRead:
    """Answers with their grades (oral) and, where allowed, whether each was right (`correct`)."""
    return _read(session, settings, attempts.get_attempt_for(session, user, attempt_id), user)


@router.put(
    "/attempts/{attempt_id}/answers/{question_id}", responses=errors(400, 401, 403, 404, 409, 413, 422)
)
def save_answer(
    user: StudentUser, attempt_id: int, question_id: int, body: AnswerSave, session: SessionDep
) -> AnswerRead:
    """Store, change or clear (null) the answer at once; repeating a save is harmless. 409 after submit."""
    return attempts.answer_read(
        attempts.save_answer(session, user, attempt_id, question_id, body.selected_option)
    )


@router.post("/attempts/{attempt_id}/submit", responses=errors(401, 403, 404, 409, 422))
def submit_attempt(
    user: StudentUser, attempt_id: int, session: SessionDep, settings: SettingsDep
) -> AttemptRead:
    """Score and close the attempt; submitting again returns the same result."""
    return _read(session, settings, attempts.submit_attempt(session, user, attempt_id), user)


@router.get("/results", responses=errors(401, 422))
def list_results(
    user: CurrentUser, session: SessionDep, test_id: QueryId = None, student_id: QueryId = None
) -> list[ResultRead]:
    """Submitted attempts. Students: their own. Teachers and admins: all, filterable by test and student."""
    return attempts.list_results(session, user, test_id, student_id)
