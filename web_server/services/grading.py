"""Scoring and grading: a test's score is the sum of its questions' points.

- Single choice: a correct answer earns the question's `max_points`, anything else 0 (scored on submit).
- Oral: a teacher or admin grades each recorded answer (`points` from 0 to `max_points`, and a comment);
  an oral question left without a recording earns 0 and needs no grading.
- `max_score` is the sum of `max_points`. `score` stays null while a recorded oral answer is ungraded
  ("awaiting grading"); it is set as soon as the last one is graded, and follows later regrades.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from web_server.models.attempt import Answer, Attempt, GradeSave
from web_server.models.base import is_valid_id, utcnow
from web_server.models.test import Question, Test
from web_server.models.user import Role, User
from web_server.services.errors import Conflict, Forbidden, InvalidInput, NotFound


def question_points(question: Question, answer: Answer | None) -> int | None:
    """The points `answer` earns on `question`; None while an oral recording waits for its grade."""
    if question.options is not None:  # single choice
        correct = answer is not None and answer.selected_option == question.correct_option
        return question.max_points if correct else 0
    if answer is None or answer.recording_path is None:
        return answer.points if answer is not None and answer.points is not None else 0
    return answer.points


def compute_score(questions: list[Question], answers: list[Answer]) -> tuple[int | None, int]:
    """`(score, max_score)`; score None while some recorded oral answer is not graded."""
    by_question = {a.question_id: a for a in answers}
    points = [question_points(q, by_question.get(q.id)) for q in questions]
    max_score = sum(q.max_points for q in questions)
    return (None if any(p is None for p in points) else sum(points)), max_score


def rescore(session: Session, attempt: Attempt) -> None:
    """Store the attempt's score from its answers (within the caller's transaction)."""
    test = session.get(Test, attempt.test_id)
    answers = list(session.exec(select(Answer).where(Answer.attempt_id == attempt.id)).all())
    score, max_score = compute_score(test.questions, answers)
    session.connection().execute(
        update(Attempt).where(col(Attempt.id) == attempt.id).values(score=score, max_score=max_score)
    )


def is_awaiting_grading(attempt: Attempt) -> bool:
    return attempt.submitted_at is not None and attempt.score is None and attempt.max_score is not None


def grade_answer(
    session: Session, grader: User, attempt_id: int, question_id: int, grade: GradeSave
) -> Answer:
    """Grade one oral answer of a submitted attempt (teachers and admins); regrading replaces the grade."""
    if grader.role not in (Role.teacher, Role.admin):
        raise Forbidden("Only teachers and admins grade answers.")
    attempt = session.get(Attempt, attempt_id) if is_valid_id(attempt_id) else None
    if attempt is None:
        raise NotFound(f"Attempt {attempt_id} not found.")
    question = session.get(Question, question_id) if is_valid_id(question_id) else None
    if question is None or question.test_id != attempt.test_id:
        raise NotFound(f"Question {question_id} is not part of this test.")
    if question.options is not None:
        raise InvalidInput("Single-choice answers are scored automatically; only oral answers are graded.")
    if attempt.submitted_at is None:
        raise Conflict("This attempt is still in progress: grade it after the student submits.")
    if grade.points > question.max_points:
        raise InvalidInput(f"points must be between 0 and {question.max_points} (this question's maximum).")
    # lock the attempt row first (PostgreSQL: until commit; SQLite: the write lock), so two teachers grading
    # two answers at once never both rescore without the other's grade
    session.connection().execute(
        update(Attempt).where(col(Attempt.id) == attempt.id).values(score=Attempt.score)
    )
    answer = session.exec(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.question_id == question.id)
    ).first()
    if answer is None:  # an unanswered oral question can still get a comment (and points)
        answer = Answer(attempt_id=attempt.id, question_id=question.id)
    answer.points = grade.points
    answer.comment = (grade.comment or "").strip() or None
    answer.graded_at = utcnow()
    answer.graded_by_id = grader.id
    session.add(answer)
    session.flush()
    rescore(session, attempt)
    session.commit()
    session.refresh(answer)
    return answer
