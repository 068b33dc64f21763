"""The class report's emotions split by whether each student answered a single-choice question right:
`by_correctness: {correct: {face: {counts, total, students, suppressed}, voice: ...}, incorrect: {...}}`
("students who missed Q3 looked mostly confused"). Unanswered counts as incorrect. In `aggregate` mode a
cell of fewer than MIN_GROUP_SIZE students is withheld like every other report figure."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from web_server.models.attempt import Answer
from web_server.models.emotion import EmotionSample, SampleStatus
from web_server.models.test import Question, Test

S = EmotionSample
MODALITIES = ("face", "voice")


def by_correctness(session: Session, test: Test, excluded, min_group: int) -> dict[int, dict]:
    """Per single-choice question id: the block above. `excluded`: a select of attempt ids left out."""
    right = case((Answer.selected_option == Question.correct_option, "correct"), else_="incorrect")
    where = [
        Question.test_id == test.id,
        col(Question.options).is_not(None),
        S.status == SampleStatus.ok,
        col(S.emotion).is_not(None),
        col(S.attempt_id).not_in(excluded),
    ]
    base = (
        select(S.question_id, S.modality, right.label("right"), S.emotion, func.count(), S.attempt_id)
        .join(Question, Question.id == S.question_id)
        .outerjoin(Answer, and_(Answer.attempt_id == S.attempt_id, Answer.question_id == S.question_id))
        .where(*where)
        .group_by(S.question_id, S.modality, right, S.emotion, S.attempt_id)
    )
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    students: dict[tuple, set[int]] = defaultdict(set)
    for qid, modality, which, emotion, n, attempt_id in session.exec(base).all():
        counts[(qid, which, modality)][emotion] += n
        students[(qid, which, modality)].add(attempt_id)

    def cell(key: tuple) -> dict:
        n_students = len(students.get(key, ()))
        if n_students < min_group:
            return {"counts": {}, "total": 0, "students": n_students, "suppressed": n_students > 0}
        found = counts.get(key, {})
        return {
            "counts": dict(sorted(found.items())),
            "total": sum(found.values()),
            "students": n_students,
            "suppressed": False,
        }

    return {
        q.id: {which: {m: cell((q.id, which, m)) for m in MODALITIES} for which in ("correct", "incorrect")}
        for q in test.questions
        if q.options is not None
    }
