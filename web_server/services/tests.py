"""Tests (quizzes): create, list, read, edit, publish, delete.

Editing rules: title, topic, `published` and `show_correct` can always change. `kind` and `questions`
(which replaces all questions) are refused with 409 once any student has started the test, because answers
and scores refer to the questions; create a new test instead. A test must have at least one question to be
published.
Teachers edit only their own tests; admins edit any. All staff can read every test.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import is_valid_id, utcnow
from web_server.models.test import (
    MyAttempt,
    Question,
    QuestionCreate,
    QuestionRead,
    Test,
    TestCreate,
    TestKind,
    TestRead,
    TestUpdate,
)
from web_server.models.user import Role, User
from web_server.services import modes
from web_server.services.errors import Conflict, Forbidden, InvalidInput, NotFound


def validate_questions(kind: TestKind, questions: list[QuestionCreate]) -> None:
    for number, question in enumerate(questions, start=1):
        where = f"Question {number}"
        if not question.prompt.strip():
            raise InvalidInput(f"{where}: the prompt is empty.")
        if kind == TestKind.single_choice:
            options = question.options or []
            if len(options) < 2:
                raise InvalidInput(f"{where}: a single-choice question needs at least 2 options.")
            if any(not option.strip() for option in options):
                raise InvalidInput(f"{where}: options cannot be empty.")
            if question.correct_option is None:
                raise InvalidInput(f"{where}: choose the correct option (correct_option).")
            if question.correct_option >= len(options):
                raise InvalidInput(
                    f"{where}: correct_option must be an option index from 0 to {len(options) - 1}."
                )
        elif question.options or question.correct_option is not None:
            raise InvalidInput(
                f"{where}: an oral question has only a prompt (no options, no correct_option)."
            )


def _build_questions(kind: TestKind, questions: list[QuestionCreate]) -> list[Question]:
    single = kind == TestKind.single_choice
    return [
        Question(
            position=position,
            prompt=q.prompt.strip(),
            options=[o.strip() for o in q.options] if single and q.options else None,
            correct_option=q.correct_option if single else None,
            max_points=q.max_points,
        )
        for position, q in enumerate(questions)
    ]


def _check_publishable(published: bool, question_count: int) -> None:
    if published and question_count == 0:
        raise InvalidInput("A test needs at least one question before it can be published.")


def create_test(session: Session, settings: Settings, author: User, data: TestCreate) -> Test:
    validate_questions(data.kind, data.questions)
    _check_publishable(data.published, len(data.questions))
    modes.validate_test_mode(settings, data.emotion_analysis, None, started=False)
    test = Test(
        title=data.title.strip(),
        topic=data.topic.strip(),
        kind=data.kind,
        published=data.published,
        emotion_analysis=data.emotion_analysis,
        show_correct=data.show_correct,
        created_by_id=author.id,
        questions=_build_questions(data.kind, data.questions),
    )
    session.add(test)
    session.commit()
    session.refresh(test)
    return test


def get_test_for(session: Session, user: User, test_id: int) -> Test:
    """The test if `user` may see it: staff see all, students only published ones (else 404)."""
    test = session.get(Test, test_id) if is_valid_id(test_id) else None
    if test is None or (user.role == Role.student and not test.published):
        raise NotFound(f"Test {test_id} not found.")
    return test


def list_tests(
    session: Session, user: User, published: bool | None = None, topic: str | None = None
) -> list[Test]:
    query = select(Test).order_by(col(Test.created_at).desc(), col(Test.id).desc())
    if user.role == Role.student:
        query = query.where(Test.published)
    elif published is not None:
        query = query.where(Test.published == published)
    if topic:
        query = query.where(Test.topic == topic)
    return list(session.exec(query).all())


def has_attempts(session: Session, test_id: int) -> bool:
    count = session.exec(select(func.count()).select_from(Attempt).where(Attempt.test_id == test_id)).one()
    return count > 0


def _check_can_edit(user: User, test: Test) -> None:
    if user.role != Role.admin and test.created_by_id != user.id:
        raise Forbidden("Only the teacher who wrote this test (or an admin) can change it.")


def update_test(session: Session, settings: Settings, user: User, test_id: int, data: TestUpdate) -> Test:
    test = get_test_for(session, user, test_id)
    _check_can_edit(user, test)
    changes = data.model_dump(exclude_unset=True)
    kind = data.kind if data.kind is not None else test.kind
    structural = (data.kind is not None and data.kind != test.kind) or data.questions is not None
    if structural and has_attempts(session, test.id):
        raise Conflict(
            "Students have already started this test, so its kind and questions can no longer change "
            "(title, topic and published still can). Create a new test instead."
        )
    if "emotion_analysis" in changes:
        started = has_attempts(session, test.id)
        modes.validate_test_mode(settings, data.emotion_analysis, test.emotion_analysis, started)
        test.emotion_analysis = data.emotion_analysis
    if data.questions is not None:
        validate_questions(kind, data.questions)
    elif data.kind is not None and data.kind != test.kind and test.questions:
        raise InvalidInput("Changing the kind needs the questions too (send `questions` with `kind`).")
    if data.title is not None:
        test.title = data.title.strip()
    if data.topic is not None:
        test.topic = data.topic.strip()
    test.kind = kind
    if data.questions is not None:
        test.questions.clear()  # delete-orphan removes them
        session.flush()  # free the (test_id, position) slots before inserting the new questions
        test.questions = _build_questions(kind, data.questions)
    if changes.get("published") is not None:
        test.published = data.published
    if changes.get("show_correct") is not None:
        test.show_correct = data.show_correct
    _check_publishable(test.published, len(test.questions))
    test.updated_at = utcnow()
    session.add(test)
    session.commit()
    session.refresh(test)
    return test


def delete_test(session: Session, user: User, test_id: int) -> None:
    """Refused (409) once students have started it: their attempts and results would be lost."""
    test = get_test_for(session, user, test_id)
    _check_can_edit(user, test)
    if has_attempts(session, test.id):
        raise Conflict("Students have already started this test; unpublish it instead of deleting it.")
    session.delete(test)
    session.commit()


def to_read(
    session: Session,
    settings: Settings,
    user: User,
    test: Test,
    attempts: dict[int, Attempt] | None = None,
) -> TestRead:
    """API shape; correct options are hidden from students, who also get `my_attempt`.
    `effective_emotion_analysis`: the mode a new attempt gets (services/modes.py)."""
    student = user.role == Role.student
    my_attempt = None
    if student:
        if attempts is None:
            attempts = own_attempts_by_test(session, user, [test.id])
        attempt = attempts.get(test.id)
        if attempt is not None:
            my_attempt = MyAttempt(id=attempt.id, submitted_at=attempt.submitted_at)
    return TestRead(
        id=test.id,
        title=test.title,
        topic=test.topic,
        kind=test.kind,
        published=test.published,
        created_at=test.created_at,
        created_by_id=test.created_by_id,
        emotion_analysis=test.emotion_analysis,
        effective_emotion_analysis=modes.mode_for_test(settings, test),
        show_correct=test.show_correct,
        questions=[
            QuestionRead(
                id=q.id,
                position=q.position,
                prompt=q.prompt,
                options=q.options,
                correct_option=None if student else q.correct_option,
                max_points=q.max_points,
            )
            for q in test.questions
        ],
        my_attempt=my_attempt,
    )


def own_attempts_by_test(session: Session, user: User, test_ids: list[int]) -> dict[int, Attempt]:
    if not test_ids:
        return {}
    query = select(Attempt).where(Attempt.student_id == user.id, col(Attempt.test_id).in_(test_ids))
    return {attempt.test_id: attempt for attempt in session.exec(query).all()}
