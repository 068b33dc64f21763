"""Attempts: start (or resume), autosave answers, submit and score, read, list results.

A student has at most one attempt per test. Starting again returns the open attempt; after submission
starting again is refused (409). Each answer save is stored at once and is idempotent. Submitting scores
the attempt (services/grading.py): single-choice answers at once, recorded oral answers once a teacher has
graded them (score null until then, "awaiting grading"). Submitting twice returns the first result.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Answer, AnswerRead, Attempt, AttemptRead, AttemptStart, ResultRead
from web_server.models.base import is_valid_id, utcnow
from web_server.models.test import Question, Test
from web_server.models.user import Role, User
from web_server.services import consent as consent_service
from web_server.services import grading, modes
from web_server.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from web_server.services.tests import get_test_for


@dataclass
class StartResult:
    attempt: Attempt
    created: bool


def start_attempt(
    session: Session, settings: Settings, student: User, test_id: int, consent: AttemptStart | None = None
) -> StartResult:
    """Create the attempt, or return the open one; `consent` (camera, microphone) is stored on both, with
    its history; a resume that withdraws consent deletes what was analysed under it (services/consent.py).
    A new attempt records the test's emotion analysis mode: what the consent page told the student."""
    choices = consent.model_dump(exclude_none=True) if consent is not None else {}
    if student.role != Role.student:
        raise Forbidden("Only students take tests.")
    test = get_test_for(session, student, test_id)
    existing = _own_attempt(session, student.id, test.id)
    if existing is None:
        if not test.questions:
            raise Conflict("This test has no questions yet.")
        attempt = Attempt(
            test_id=test.id,
            student_id=student.id,
            emotion_analysis=modes.mode_for_test(settings, test),
            **choices,
        )
        session.add(attempt)
        try:
            session.flush()
            consent_service.record_events(session, attempt.id, choices)
            session.commit()
            session.refresh(attempt)
            return StartResult(attempt, created=True)
        except IntegrityError:  # a concurrent request (double click) created it first
            session.rollback()
            existing = _own_attempt(session, student.id, test.id)
            if existing is None:
                raise
    if existing.submitted_at is not None:
        raise Conflict(f"You have already submitted this test (attempt {existing.id}).")
    if choices and any(getattr(existing, key) != value for key, value in choices.items()):
        try:
            consent_service.apply(session, settings, existing, choices)
        except Conflict:  # submitted meanwhile
            session.refresh(existing)
    return StartResult(existing, created=False)


def _own_attempt(session: Session, student_id: int, test_id: int) -> Attempt | None:
    query = select(Attempt).where(Attempt.student_id == student_id, Attempt.test_id == test_id)
    return session.exec(query).first()


def get_attempt_for(session: Session, user: User, attempt_id: int) -> Attempt:
    """The attempt if `user` may see it: its student, or any teacher/admin; otherwise 404."""
    attempt = session.get(Attempt, attempt_id) if is_valid_id(attempt_id) else None
    if attempt is None or (user.role == Role.student and attempt.student_id != user.id):
        raise NotFound(f"Attempt {attempt_id} not found.")
    return attempt


def _claim_open(session: Session, attempt_id: int, **values: object) -> bool:
    """Run a guarded UPDATE on the attempt row if it is still open; True when it was.

    This serialises writers on one attempt on both backends: PostgreSQL locks the row until commit,
    SQLite takes its write lock. So an answer save and a submission never interleave: a save after the
    submission finds the attempt closed, and the score is computed with every save before it.
    """
    statement = (
        update(Attempt)
        .where(col(Attempt.id) == attempt_id, col(Attempt.submitted_at).is_(None))
        .values(**(values or {"score": Attempt.score}))
    )
    return session.connection().execute(statement).rowcount == 1


def get_open_attempt_for_student(session: Session, user: User, attempt_id: int) -> Attempt:
    """The caller's own attempt, locked for writing until the session commits; 409 once submitted.

    Used by answer saves and by the capture work (audio answers) before writing.
    """
    if user.role != Role.student:
        raise Forbidden("Only the student taking the test can change its answers.")
    attempt = get_attempt_for(session, user, attempt_id)
    if attempt.submitted_at is not None or not _claim_open(session, attempt.id):
        session.rollback()
        raise Conflict("This attempt has already been submitted; answers can no longer change.")
    return attempt


def _question_of(session: Session, attempt: Attempt, question_id: int) -> Question:
    question = session.get(Question, question_id) if is_valid_id(question_id) else None
    if question is None or question.test_id != attempt.test_id:
        raise NotFound(f"Question {question_id} is not part of this test.")
    return question


def _upsert_answer(session: Session, attempt: Attempt, question_id: int, **values: object) -> Answer:
    attempt_id = attempt.id
    for _ in range(2):
        answer = session.exec(
            select(Answer).where(Answer.attempt_id == attempt_id, Answer.question_id == question_id)
        ).first()
        if answer is None:
            answer = Answer(attempt_id=attempt_id, question_id=question_id, **values)
        elif all(getattr(answer, key) == value for key, value in values.items()):
            session.commit()  # same value again: nothing changes (idempotent); releases the lock
            return answer
        else:
            for key, value in values.items():
                setattr(answer, key, value)
            answer.updated_at = utcnow()
        session.add(answer)
        try:
            session.commit()
        except IntegrityError:  # concurrent first save of the same question: retry as an update
            session.rollback()
            if not _claim_open(session, attempt_id):
                session.rollback()
                raise Conflict(
                    "This attempt has already been submitted; answers can no longer change."
                ) from None
            continue
        session.refresh(answer)
        return answer
    raise Conflict("The answer was changed concurrently; save it again.")


def save_answer(
    session: Session, student: User, attempt_id: int, question_id: int, selected_option: int | None
) -> Answer:
    attempt = get_open_attempt_for_student(session, student, attempt_id)
    question = _question_of(session, attempt, question_id)
    if selected_option is not None:
        if question.options is None:
            raise InvalidInput("This is an oral question: answer it with a recording, not selected_option.")
        if selected_option >= len(question.options):
            raise InvalidInput(f"selected_option must be between 0 and {len(question.options) - 1}.")
    return _upsert_answer(session, attempt, question.id, selected_option=selected_option)


def set_answer_recording(
    session: Session, student: User, attempt_id: int, question_id: int, recording_path: str
) -> Answer:
    """Store the recorded oral answer's path (relative to MEDIA_DIR) for a question; for the capture work."""
    attempt = get_open_attempt_for_student(session, student, attempt_id)
    question = _question_of(session, attempt, question_id)
    return _upsert_answer(session, attempt, question.id, recording_path=recording_path)


def submit_attempt(session: Session, student: User, attempt_id: int) -> Attempt:
    if student.role != Role.student:
        raise Forbidden("Only the student taking the test can submit it.")
    attempt = get_attempt_for(session, student, attempt_id)
    if attempt.submitted_at is None and _claim_open(session, attempt.id, submitted_at=utcnow()):
        grading.rescore(session, attempt)
        session.commit()
    else:  # submitted already (maybe a moment ago by a concurrent request): the first result stands
        session.rollback()
    session.refresh(attempt)
    return attempt


def answer_read(answer: Answer, key: dict[int, int | None] | None = None) -> AnswerRead:
    """`key`: the correct option of each single-choice question whose correctness may be shown."""
    key = key or {}
    return AnswerRead(
        question_id=answer.question_id,
        selected_option=answer.selected_option,
        has_recording=answer.recording_path is not None,
        updated_at=answer.updated_at,
        correct=(answer.selected_option == key[answer.question_id]) if answer.question_id in key else None,
        points=answer.points,
        comment=answer.comment,
        graded_at=answer.graded_at,
    )


def answer_key(session: Session, user: User, attempt: Attempt) -> dict[int, int | None]:
    """The correct options `user` may compare this attempt's answers with: staff always; the student once
    submitted and only when the test shows them (`show_correct`)."""
    test = session.get(Test, attempt.test_id)
    if user.role == Role.student and not (attempt.submitted_at is not None and test.show_correct):
        return {}
    return {q.id: q.correct_option for q in test.questions if q.options is not None}


def effective_modes(session: Session, settings: Settings, attempts: list[Attempt]) -> dict[int, str]:
    """The effective emotion analysis mode of each attempt (services/modes.py), by attempt id."""
    test_ids = {a.test_id for a in attempts}
    tests = (
        dict(session.exec(select(Test.id, Test.emotion_analysis).where(col(Test.id).in_(test_ids))).all())
        if test_ids
        else {}
    )
    return {
        a.id: str(modes.lowest(settings.EMOTION_ANALYSIS, tests.get(a.test_id), a.emotion_analysis))
        for a in attempts
    }


def to_read(
    attempt: Attempt, mode: str | None = None, key: dict[int, int | None] | None = None
) -> AttemptRead:
    """`mode`: the effective emotion analysis mode (`effective_modes`); None: the attempt's own.
    `key`: see `answer_key` (None: correctness not shown)."""
    return AttemptRead(
        id=attempt.id,
        test_id=attempt.test_id,
        student_id=attempt.student_id,
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        score=attempt.score,
        max_score=attempt.max_score,
        camera=attempt.camera,
        microphone=attempt.microphone,
        emotion_analysis=mode or attempt.emotion_analysis or "individual",
        awaiting_grading=grading.is_awaiting_grading(attempt),
        answers=[answer_read(a, key) for a in attempt.answers],
    )


def visible_attempts(user: User, test_id: int | None = None, student_id: int | None = None) -> list:
    """WHERE clauses on Attempt: students see only their own attempts (a student_id filter can only
    narrow that); staff see all, filtered by test and student."""
    clauses = []
    if user.role == Role.student:
        clauses.append(Attempt.student_id == user.id)
    if student_id is not None:
        clauses.append(Attempt.student_id == student_id)
    if test_id is not None:
        clauses.append(Attempt.test_id == test_id)
    return clauses


def list_attempts(
    session: Session,
    user: User,
    test_id: int | None = None,
    student_id: int | None = None,
    submitted: bool | None = None,
) -> list[Attempt]:
    """Students get only their own attempts; staff filter by test, student and submission."""
    query = (
        select(Attempt)
        .options(selectinload(Attempt.answers))
        .where(*visible_attempts(user, test_id, student_id))
        .order_by(col(Attempt.started_at).desc())
    )
    if submitted is not None:
        query = query.where(
            col(Attempt.submitted_at).is_not(None) if submitted else col(Attempt.submitted_at).is_(None)
        )
    return list(session.exec(query).all())


def list_results(
    session: Session, user: User, test_id: int | None = None, student_id: int | None = None
) -> list[ResultRead]:
    """Submitted attempts with names: students see their own; teachers and admins all (filterable)."""
    query = (
        select(Attempt, Test, User)
        .join(Test, Attempt.test_id == Test.id)
        .join(User, Attempt.student_id == User.id)
        .where(col(Attempt.submitted_at).is_not(None), *visible_attempts(user, test_id, student_id))
        .order_by(col(Attempt.submitted_at).desc(), col(Attempt.id).desc())
    )
    return [
        ResultRead(
            attempt_id=attempt.id,
            test_id=test.id,
            test_title=test.title,
            test_topic=test.topic,
            test_kind=test.kind,
            student_id=student.id,
            student_username=student.username,
            student_full_name=student.full_name,
            started_at=attempt.started_at,
            submitted_at=attempt.submitted_at,
            score=attempt.score,
            max_score=attempt.max_score,
            camera=attempt.camera,
            microphone=attempt.microphone,
            awaiting_grading=grading.is_awaiting_grading(attempt),
        )
        for attempt, test, student in session.exec(query).all()
    ]
