"""A test's results as CSV for a spreadsheet: one row per student and question (1-based numbers), with the
question text, the student's username and full name, the attempt's score, the answer, whether it was right
(single choice), the oral grade, and, where the mode lets teachers see each student's emotions
(`individual`), one column per emotion score (mean over the question's analysed samples) per modality.

Every attempt appears with its answers, with or without a camera. Each student whose emotions are exported
is written to the audit log by the route.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Answer, Attempt
from web_server.models.emotion import EmotionSample, SampleStatus
from web_server.models.test import Test
from web_server.models.user import User
from web_server.services import grading, modes
from web_server.services.fusion import FACE_LABELS, VOICE_LABELS
from web_server.services.spreadsheet import rows_to_csv

S = EmotionSample
BASE_COLUMNS = [
    "question_number",
    "question_text",
    "username",
    "full_name",
    "status",
    "score",
    "max_score",
    "answer",
    "correct",
    "points",
    "max_points",
    "comment",
]
MODALITY_LABELS = {"face": FACE_LABELS, "voice": VOICE_LABELS}


def emotion_columns() -> list[str]:
    columns = []
    for modality, labels in MODALITY_LABELS.items():
        columns += [f"{modality}_samples", f"{modality}_uncertain", f"{modality}_dominant"]
        columns += [f"{modality}_{label}" for label in labels]
    return columns


def _emotion_cells(session: Session, attempt_ids: list[int]) -> dict[tuple[int, int | None, str], list]:
    """Per (attempt, question, modality): [samples, uncertain, dominant, mean score per label...]."""
    if not attempt_ids:
        return {}
    sums: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    n: dict[tuple, int] = defaultdict(int)
    uncertain: dict[tuple, int] = defaultdict(int)
    rows = session.exec(
        select(S.attempt_id, S.question_id, S.modality, S.status, S.emotion, S.scores).where(
            col(S.attempt_id).in_(attempt_ids),
            col(S.status).in_([SampleStatus.ok.value, SampleStatus.uncertain.value]),
        )
    ).all()
    for attempt_id, question_id, modality, status, emotion, scores in rows:
        key = (attempt_id, question_id, modality)
        if status == SampleStatus.uncertain:
            uncertain[key] += 1
            continue
        if emotion is None:
            continue
        n[key] += 1
        counts[key][emotion] += 1
        for label, value in (scores or {}).items():
            sums[key][label] += float(value)
    out = {}
    for key in set(n) | set(uncertain):
        labels = MODALITY_LABELS.get(key[2], ())
        total = n[key]
        dominant = max(sorted(counts[key]), key=counts[key].get) if counts[key] else None
        means = [round(sums[key][label] / total, 4) if total else None for label in labels]
        out[key] = [total, uncertain[key], dominant, *means]
    return out


def _answer_text(question, answer: Answer | None) -> str:
    if answer is None:
        return ""
    if question.options is not None:
        chosen = answer.selected_option
        return question.options[chosen] if chosen is not None and chosen < len(question.options) else ""
    return "recording" if answer.recording_path else ""


def results_csv(session: Session, settings: Settings, test: Test) -> tuple[Iterator[str], list[int]]:
    """The CSV text (streamed) and the students whose emotions it holds (for the audit log)."""
    attempts = session.exec(
        select(Attempt, User)
        .join(User, User.id == Attempt.student_id)
        .where(Attempt.test_id == test.id)
        .order_by(User.username)
    ).all()
    with_emotions = modes.mode_for_test(settings, test) == modes.INDIVIDUAL
    shown = [a.id for a, _ in attempts if modes.attempt_mode(settings, test, a) == modes.INDIVIDUAL]
    emotions = _emotion_cells(session, shown) if with_emotions else {}
    answers = {
        (a.attempt_id, a.question_id): a
        for a in session.exec(
            select(Answer).where(col(Answer.attempt_id).in_([a.id for a, _ in attempts] or [0]))
        ).all()
    }
    header = BASE_COLUMNS + (emotion_columns() if with_emotions else [])

    def rows():
        for attempt, student in attempts:
            status = "submitted" if attempt.submitted_at else "in_progress"
            if grading.is_awaiting_grading(attempt):
                status = "awaiting_grading"
            for question in test.questions:
                answer = answers.get((attempt.id, question.id))
                single = question.options is not None
                correct = None
                if single and attempt.submitted_at is not None:
                    correct = answer is not None and answer.selected_option == question.correct_option
                row = [
                    question.position + 1,
                    question.prompt,
                    student.username,
                    student.full_name,
                    status,
                    attempt.score,
                    attempt.max_score,
                    _answer_text(question, answer),
                    correct,
                    grading.question_points(question, answer) if attempt.submitted_at else None,
                    question.max_points,
                    answer.comment if answer is not None else None,
                ]
                if with_emotions:
                    for modality, labels in MODALITY_LABELS.items():
                        cells = emotions.get((attempt.id, question.id, modality))
                        if cells is None:  # nothing analysed: 0 samples; not shown: empty cells
                            cells = [0, 0] if attempt.id in shown else [None, None]
                            cells += [None] * (1 + len(labels))
                        row += cells
                yield row

    students = sorted({a.student_id for a, _ in attempts if a.id in shown}) if with_emotions else []
    # rows built now, while the session is open (the route's audit commit expires the ORM objects)
    return rows_to_csv(header, list(rows())), students
