"""Charts and reports over emotion samples, aggregated in SQL (GROUP BY) on SQLite and PostgreSQL.

Only analysed samples with an emotion (`status = 'ok'`, `emotion IS NOT NULL`) are counted in the
distributions; frames without a face, pending and unanalysed media are counted apart (`presence`,
`missing`) so that a chart shows gaps instead of hiding them. Time buckets are integer divisions of
`offset_ms` (milliseconds since the attempt started) by CHART_BUCKET_SECONDS.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Engine, Text, and_, case, cast, func, or_
from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.emotion import EmotionSample, Modality, SampleStatus
from web_server.models.test import Question, Test
from web_server.models.user import Role, User
from web_server.services import chart_context, modes, report_correctness
from web_server.services.attempts import visible_attempts
from web_server.services.errors import Forbidden, NotFound
from web_server.services.fusion import FACE_LABELS, VOICE_LABELS, Scored, fuse_timeline

MODALITIES = (Modality.face.value, Modality.voice.value)
LABELS = {"face": list(FACE_LABELS), "voice": list(VOICE_LABELS)}

S = EmotionSample
_counted = and_(S.status == SampleStatus.ok, col(S.emotion).is_not(None))


def _dist(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    return {"counts": dict(sorted(counts.items())), "total": total}


# --- one attempt -------------------------------------------------------------------------------------


SAMPLE_FIELDS = (
    "modality",
    "captured_at",
    "question_id",
    "emotion",
    "confidence",
    "scores",
    "faces",
    "status",
    "segment_start_s",
    "segment_end_s",
)


def list_samples(session: Session, attempt: Attempt, modality: str | None) -> list[dict]:
    """The timeline as plain rows (no ORM objects: an attempt has about a thousand samples)."""
    query = select(*(getattr(S, f) for f in SAMPLE_FIELDS)).where(S.attempt_id == attempt.id)
    if modality:
        query = query.where(S.modality == modality)
    rows = session.exec(query.order_by(S.captured_at, S.id)).all()
    return [dict(zip(SAMPLE_FIELDS, row, strict=True)) for row in rows]


def attempt_charts(session: Session, settings: Settings, attempt: Attempt, reveal: bool = False) -> dict:
    """Bar (time buckets), pie, per-question distributions per modality, the fused timeline, and
    the counts of what is missing (pending / unanalysed) and of frames without or with several faces."""
    bucket_s = settings.CHART_BUCKET_SECONDS
    bucket = (S.offset_ms // (bucket_s * 1000)).label("bucket")
    where = (S.attempt_id == attempt.id, _counted)

    bar: dict[str, dict[int, dict]] = {m: {} for m in MODALITIES}
    rows = session.exec(
        select(S.modality, bucket, S.emotion, func.count(), func.avg(S.confidence))
        .where(*where)
        .group_by(S.modality, bucket, S.emotion)
    ).all()
    for modality, b, emotion, n, mean_conf in rows:
        entry = bar[modality].setdefault(int(b), {"counts": {}, "total": 0, "conf_sum": 0.0})
        entry["counts"][emotion] = n
        entry["total"] += n
        entry["conf_sum"] += float(mean_conf or 0.0) * n

    questions = session.exec(
        select(Question.id, Question.position)
        .where(Question.test_id == attempt.test_id)
        .order_by(Question.position)
    ).all()
    per_q: dict[str, dict[int, dict[str, int]]] = {m: {qid: {} for qid, _ in questions} for m in MODALITIES}
    pie: dict[str, dict[str, int]] = {m: {} for m in MODALITIES}
    rows = session.exec(
        select(S.modality, S.question_id, S.emotion, func.count())
        .where(*where)
        .group_by(S.modality, S.question_id, S.emotion)
    ).all()
    for modality, qid, emotion, n in rows:
        per_q[modality].setdefault(qid, {})[emotion] = n
        pie[modality][emotion] = pie[modality].get(emotion, 0) + n

    missing = {m: {"pending": 0, "unanalysed": 0, "uncertain": 0} for m in MODALITIES}
    presence = {"none": 0, "one": 0, "several": 0}
    faces_kind = case((S.faces == 0, "none"), (S.faces == 1, "one"), else_="several")
    rows = session.exec(
        select(S.modality, S.status, faces_kind, func.count())
        .where(S.attempt_id == attempt.id)
        .group_by(S.modality, S.status, faces_kind)
    ).all()
    for modality, status, kind, n in rows:
        if status in (SampleStatus.pending, SampleStatus.unanalysed, SampleStatus.uncertain):
            missing[modality][status] += n
        if modality == Modality.face and status not in (SampleStatus.pending, SampleStatus.unanalysed):
            presence[kind] += n

    gaps = chart_context.bucket_gaps(session, attempt, bucket, bucket_s, faces_kind)
    position = dict(questions)
    return {
        "attempt_id": attempt.id,
        "bucket_seconds": bucket_s,
        "labels": LABELS,
        "bar": {
            m: [
                {
                    "start_s": b * bucket_s,
                    "end_s": (b + 1) * bucket_s,
                    "counts": dict(sorted(e["counts"].items())),
                    "total": e["total"],
                    "mean_confidence": round(e["conf_sum"] / e["total"], 4) if e["total"] else None,
                }
                for b, e in sorted(bar[m].items())
            ]
            for m in MODALITIES
        },
        "pie": {m: _pie(pie[m]) for m in MODALITIES},
        "per_question": {
            m: [
                {"question_id": qid, "position": position.get(qid), **_dist(counts)}
                for qid, counts in sorted(
                    per_q[m].items(), key=lambda kv: (position.get(kv[0], 1 << 30), kv[0])
                )
            ]
            for m in MODALITIES
        },
        "fused": fused_timeline(session, settings, attempt),
        "presence": presence,
        "missing": missing,
        "gaps": gaps,
        "questions": chart_context.question_spans(session, attempt, reveal),
    }


def _pie(counts: dict[str, int]) -> list[dict]:
    total = sum(counts.values())
    return [
        {"emotion": e, "count": n, "share": round(n / total, 4)}
        for e, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def fused_timeline(session: Session, settings: Settings, attempt: Attempt) -> list[dict]:
    """Late fusion (see services/fusion.py) of this attempt's analysed face and voice samples."""
    rows = session.exec(
        select(S.modality, S.offset_ms, S.segment_start_s, S.segment_end_s, S.scores).where(
            S.attempt_id == attempt.id, _counted, col(S.scores).is_not(None)
        )
    ).all()
    frames, segments = [], []
    for modality, off, seg_start, seg_end, scores in rows:
        start = off / 1000
        if modality == Modality.face:
            frames.append(Scored(start, start, scores))
        else:
            segments.append(Scored(start, start + max(0.0, (seg_end or 0.0) - (seg_start or 0.0)), scores))
    return fuse_timeline(
        frames,
        segments,
        float(settings.CHART_BUCKET_SECONDS),
        settings.FUSION_FACE_WEIGHT,
        settings.FUSION_VOICE_WEIGHT,
    )


# --- lists and reports -----------------------------------------------------------------------------


def _mode_clauses(settings: Settings, user: User) -> list:
    """Students list their own attempts unless analysis was off; staff only attempts in `individual` mode."""
    needed = modes.SELF if user.role == Role.student else modes.INDIVIDUAL
    return modes.at_least_clauses(settings, needed)


def count_charts(
    session: Session, settings: Settings, user: User, test_id: int | None, student_id: int | None
) -> int:
    """How many rows `list_charts` has over all pages."""
    query = (
        select(func.count())
        .select_from(Attempt)
        .join(Test, Test.id == Attempt.test_id)
        .where(*visible_attempts(user, test_id, student_id), *_mode_clauses(settings, user))
    )
    return session.exec(query).one()


def list_charts(
    session: Session,
    settings: Settings,
    user: User,
    test_id: int | None,
    student_id: int | None,
    limit: int,
    offset: int,
) -> list[dict]:
    """Attempts newest first with test and student, and how many samples each modality has: for students
    their own attempts (not those with emotion analysis off), for staff only attempts in `individual` mode."""
    query = (
        select(Attempt, Test.title, Test.kind, Test.emotion_analysis, User.username, User.full_name)
        .join(Test, Test.id == Attempt.test_id)
        .join(User, User.id == Attempt.student_id)
        .where(*visible_attempts(user, test_id, student_id), *_mode_clauses(settings, user))
    )
    rows = session.exec(
        query.order_by(col(Attempt.started_at).desc(), col(Attempt.id).desc()).offset(offset).limit(limit)
    ).all()
    ids = [a.id for a, *_ in rows]
    mode = {
        a.id: str(modes.lowest(settings.EMOTION_ANALYSIS, test_mode, a.emotion_analysis))
        for a, _, _, test_mode, *_ in rows
    }
    counts: dict[int, dict] = defaultdict(
        lambda: {m: {"ok": 0, "pending": 0, "unanalysed": 0} for m in MODALITIES}
    )
    if ids:
        for attempt_id, modality, status, n in session.exec(
            select(S.attempt_id, S.modality, S.status, func.count())
            .where(col(S.attempt_id).in_(ids))
            .group_by(S.attempt_id, S.modality, S.status)
        ).all():
            counts[attempt_id][modality][status] = n
    return [
        {
            "attempt_id": a.id,
            "test_id": a.test_id,
            "test_title": title,
            "test_kind": kind,
            "student_id": a.student_id,
            "student_username": username,
            "student_full_name": full_name,
            "started_at": a.started_at,
            "submitted_at": a.submitted_at,
            "camera": a.camera,
            "microphone": a.microphone,
            "emotion_analysis": mode[a.id],
            "samples": counts[a.id],
        }
        for a, title, kind, _, username, full_name in rows
    ]


def get_test(session: Session, test_id: int) -> Test:
    test = session.get(Test, test_id)
    if test is None:
        raise NotFound(f"Test {test_id} not found.")
    return test


def check_report_allowed(settings: Settings, test: Test) -> modes.EmotionMode:
    """The test's mode if its class report may be shown (`aggregate` or `individual`), else 403."""
    mode = modes.mode_for_test(settings, test)
    if mode.rank < modes.AGGREGATE.rank:
        raise Forbidden(
            "Emotion analysis is off for this test: there is no emotion report."
            if mode == modes.OFF
            else "Emotions of this test are visible only to each student themself (emotion analysis mode "
            "'self'): there is no class report."
        )
    return mode


def _excluded_attempts(test: Test, mode: modes.EmotionMode):
    """Attempts of `test` that started under a lower mode than `mode` (their students were told less)."""
    return select(Attempt.id).where(
        Attempt.test_id == test.id,
        col(Attempt.emotion_analysis).is_not(None),
        col(Attempt.emotion_analysis).not_in(modes.modes_at_least(mode)),
    )


def test_report(session: Session, settings: Settings, test: Test) -> dict:
    """Per-question emotion distribution (and mean confidence) across all attempts of a test.

    `students` counts the students behind each figure. In `aggregate` mode a figure with fewer than
    MIN_GROUP_SIZE students is withheld (`suppressed`: counts empty, total 0)."""
    mode = check_report_allowed(settings, test)
    min_group = settings.MIN_GROUP_SIZE if mode == modes.AGGREGATE else 1
    attempts = session.exec(select(func.count()).select_from(Attempt).where(Attempt.test_id == test.id)).one()
    # filtering on the test's questions (not joining attempts) lets the covering index answer alone
    question_ids = select(Question.id).where(Question.test_id == test.id)
    where = [col(S.question_id).in_(question_ids), _counted]
    excluded = _excluded_attempts(test, mode)
    if session.exec(select(func.count()).select_from(excluded.subquery())).one():
        where.append(col(S.attempt_id).not_in(excluded))
    rows = session.exec(
        select(S.question_id, S.modality, S.emotion, func.count(), func.avg(S.confidence))
        .where(*where)
        .group_by(S.question_id, S.modality, S.emotion)
    ).all()
    agg: dict[tuple[int, str], dict[str, tuple[int, float]]] = defaultdict(dict)
    for qid, modality, emotion, n, mean_conf in rows:
        agg[(qid, modality)][emotion] = (n, float(mean_conf or 0.0))
    students: dict[tuple[int | None, str], int] = {
        (qid, modality): n
        for qid, modality, n in session.exec(
            select(S.question_id, S.modality, func.count(func.distinct(S.attempt_id)))
            .where(*where)
            .group_by(S.question_id, S.modality)
        ).all()
    }
    overall_students = dict(
        session.exec(
            select(S.modality, func.count(func.distinct(S.attempt_id))).where(*where).group_by(S.modality)
        ).all()
    )

    def block(qid: int | None, modality: str) -> dict:
        n_students = students.get((qid, modality), 0)
        if n_students < min_group:
            return {
                "counts": {},
                "total": 0,
                "mean_confidence": None,
                "students": n_students,
                "suppressed": True,
            }
        cells = agg.get((qid, modality), {})
        total = sum(n for n, _ in cells.values())
        return {
            "counts": {e: n for e, (n, _) in sorted(cells.items())},
            "total": total,
            "mean_confidence": round(sum(n * c for n, c in cells.values()) / total, 4) if total else None,
            "students": n_students,
            "suppressed": False,
        }

    overall: dict[str, dict[str, int]] = {m: {} for m in MODALITIES}
    for (_, modality), cells in agg.items():
        for e, (n, _) in cells.items():
            overall[modality][e] = overall[modality].get(e, 0) + n

    def overall_block(modality: str) -> dict:
        n_students = overall_students.get(modality, 0)
        if n_students < min_group:
            return {"counts": {}, "total": 0, "students": n_students, "suppressed": True}
        return {**_dist(overall[modality]), "students": n_students, "suppressed": False}

    split = report_correctness.by_correctness(session, test, excluded, min_group)
    return {
        "test_id": test.id,
        "title": test.title,
        "kind": test.kind,
        "attempts": attempts,
        "emotion_analysis": str(mode),
        "min_group_size": min_group,
        "labels": LABELS,
        "questions": [
            {
                "question_id": q.id,
                "position": q.position,
                "prompt": q.prompt,
                "face": block(q.id, Modality.face),
                "voice": block(q.id, Modality.voice),
                "by_correctness": split.get(q.id),  # single choice only (null for oral questions)
            }
            for q in test.questions
        ],
        "overall": {m: overall_block(m) for m in MODALITIES},
    }


CSV_COLUMNS = [
    "attempt_id",
    "student_id",
    "student_username",
    "question_id",
    "question_position",
    "modality",
    "captured_at",
    "offset_s",
    "status",
    "emotion",
    "confidence",
    "faces",
    "segment_start_s",
    "segment_end_s",
    "scores",
]


AGGREGATE_CSV_COLUMNS = ["question_id", "question_position", "modality", "students", "emotion", "count"]


def report_aggregate_csv(report: dict) -> Iterator[str]:
    """The class report as CSV (mode `aggregate`): one row per question, modality and emotion, only for
    figures of at least MIN_GROUP_SIZE students (withheld figures are one row with an empty emotion)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(AGGREGATE_CSV_COLUMNS)
    for q in report["questions"]:
        for modality in MODALITIES:
            cell = q[modality]
            if cell["suppressed"] or not cell["counts"]:
                writer.writerow([q["question_id"], q["position"], modality, cell["students"], "", ""])
            for emotion, n in cell["counts"].items():
                writer.writerow([q["question_id"], q["position"], modality, cell["students"], emotion, n])
    yield buf.getvalue()


def csv_students(session: Session, test: Test) -> list[int]:
    """The students whose samples the per-sample CSV of `test` holds (for the audit log)."""
    excluded = _excluded_attempts(test, modes.INDIVIDUAL)
    query = (
        select(Attempt.student_id)
        .join(S, S.attempt_id == Attempt.id)
        .where(Attempt.test_id == test.id, col(Attempt.id).not_in(excluded))
        .distinct()
    )
    return list(session.exec(query).all())


def report_csv(engine: Engine, test_id: int, chunk: int = 2000) -> Iterator[str]:
    """Every sample of a test's attempts as CSV, streamed in chunks (its own session, server-side cursor).
    Mode `individual` only (the route checks); attempts started under a lower mode are left out."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    query = (
        select(
            S.attempt_id,
            Attempt.student_id,
            User.username,
            S.question_id,
            Question.position,
            S.modality,
            S.captured_at,
            S.offset_ms,
            S.status,
            S.emotion,
            S.confidence,
            S.faces,
            S.segment_start_s,
            S.segment_end_s,
            cast(S.scores, Text),  # the stored JSON text as it is: no parsing per row
        )
        .join(Attempt, Attempt.id == S.attempt_id)
        .join(User, User.id == Attempt.student_id)
        .outerjoin(Question, Question.id == S.question_id)
        .where(
            Attempt.test_id == test_id,
            or_(
                col(Attempt.emotion_analysis).is_(None),
                col(Attempt.emotion_analysis) == modes.INDIVIDUAL.value,
            ),
        )
        .order_by(S.attempt_id, S.offset_ms, S.id)
        .execution_options(yield_per=chunk)
    )
    with Session(engine) as session:
        for n, row in enumerate(session.exec(query), start=1):
            (aid, sid, uname, qid, pos, modality, at, off, status, emotion, conf, faces, s0, s1, scores) = row
            writer.writerow(
                [
                    aid,
                    sid,
                    uname,
                    qid,
                    pos,
                    modality,
                    at.isoformat() if at else "",
                    f"{off / 1000:.3f}",
                    status,
                    emotion or "",
                    "" if conf is None else f"{conf:.4f}",
                    "" if faces is None else faces,
                    "" if s0 is None else f"{s0:.3f}",
                    "" if s1 is None else f"{s1:.3f}",
                    scores or "",
                ]
            )
            if n % chunk == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()
