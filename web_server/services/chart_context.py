"""What the per-attempt timeline shows beside the emotions: buckets of samples that are no emotion
(uncertain predictions, frames with nobody or several people in view) and the spans of each question (when
the student was on it, from the samples' times) with whether a single-choice answer was right."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from web_server.models.attempt import Answer, Attempt
from web_server.models.emotion import EmotionSample, Modality, SampleStatus
from web_server.models.test import Question

S = EmotionSample
MODALITIES = (Modality.face.value, Modality.voice.value)


def bucket_gaps(session: Session, attempt: Attempt, bucket, bucket_s: int, faces_kind) -> dict:
    """Per modality, the time buckets with analysed samples that are no emotion: `uncertain` predictions,
    frames with `nobody` in view, and frames with `several` people (whose largest face is counted): so the
    timeline can show them, and each bar its n, instead of hiding them."""
    out: dict[str, dict[int, dict]] = {m: {} for m in MODALITIES}
    rows = session.exec(
        select(S.modality, bucket, S.status, faces_kind, func.count())
        .where(
            S.attempt_id == attempt.id,
            col(S.status).in_([SampleStatus.ok.value, SampleStatus.uncertain.value]),
        )
        .group_by(S.modality, bucket, S.status, faces_kind)
    ).all()
    for modality, b, status, kind, n in rows:
        entry = out[modality].setdefault(int(b), {"uncertain": 0, "nobody": 0, "several": 0})
        if status == SampleStatus.uncertain:
            entry["uncertain"] += n
        elif modality == Modality.face and kind == "none":
            entry["nobody"] += n
        if modality == Modality.face and kind == "several":
            entry["several"] += n
    return {
        m: [
            {"start_s": b * bucket_s, "end_s": (b + 1) * bucket_s, **e}
            for b, e in sorted(out[m].items())
            if any(e.values())
        ]
        for m in MODALITIES
    }


def question_spans(session: Session, attempt: Attempt, reveal: bool) -> list[dict]:
    """Per question with samples, oldest first: `{question_id, number, start_s, end_s, correct}`; `correct`
    only for single choice, a submitted attempt and when `reveal` (staff, or the test shows it)."""
    spans = session.exec(
        select(S.question_id, func.min(S.offset_ms), func.max(S.offset_ms))
        .where(S.attempt_id == attempt.id, col(S.question_id).is_not(None))
        .group_by(S.question_id)
    ).all()
    questions = {
        q.id: q for q in session.exec(select(Question).where(Question.test_id == attempt.test_id)).all()
    }
    chosen = dict(
        session.exec(
            select(Answer.question_id, Answer.selected_option).where(Answer.attempt_id == attempt.id)
        ).all()
    )
    out = []
    for qid, first, last in spans:
        question = questions.get(qid)
        if question is None:
            continue
        correct = None
        if reveal and question.options is not None and attempt.submitted_at is not None:
            correct = chosen.get(qid) == question.correct_option
        out.append(
            {
                "question_id": qid,
                "number": question.position + 1,
                "start_s": round(first / 1000, 3),
                "end_s": round(last / 1000, 3),
                "correct": correct,
            }
        )
    return sorted(out, key=lambda q: (q["start_s"], q["number"]))
