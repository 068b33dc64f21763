"""A test's completion overview: every active student (and any student with an attempt), whether they
started and submitted, their score, consent, and how much was captured.

Capture figures (frames, seconds of speech) are per-student emotion-analysis data: shown only for attempts
whose effective mode is `individual` (services/modes.py).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, or_
from sqlmodel import Session, col, func, select

from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.emotion import EmotionSample, SampleStatus
from web_server.models.overview import (
    CompletionStatus,
    ConsentState,
    FaceCapture,
    OverviewRow,
    TestOverview,
    VoiceCapture,
)
from web_server.models.test import Test
from web_server.models.user import Role, User
from web_server.services import grading, modes

S = EmotionSample
_ANALYSED = (SampleStatus.ok.value, SampleStatus.uncertain.value)


def _capture(session: Session, attempt_ids: list[int]) -> tuple[dict, dict]:
    face: dict[int, FaceCapture] = defaultdict(FaceCapture)
    voice: dict[int, VoiceCapture] = defaultdict(VoiceCapture)
    if not attempt_ids:
        return face, voice
    analysed = col(S.status).in_(_ANALYSED)
    seconds = func.coalesce(func.sum(case((analysed, S.segment_end_s - S.segment_start_s), else_=0.0)), 0.0)
    rows = session.exec(
        select(
            S.attempt_id,
            S.modality,
            func.count(),
            func.sum(case((analysed & (S.faces >= 1), 1), else_=0)),
            func.sum(case((S.status == SampleStatus.pending, 1), else_=0)),
            seconds,
        )
        .where(col(S.attempt_id).in_(attempt_ids))
        .group_by(S.attempt_id, S.modality)
    ).all()
    for attempt_id, modality, n, with_face, pending, secs in rows:
        if modality == "face":
            face[attempt_id] = FaceCapture(frames=n, with_face=int(with_face or 0), pending=int(pending or 0))
        else:
            voice[attempt_id] = VoiceCapture(seconds=round(float(secs or 0.0), 1), pending=int(pending or 0))
    return face, voice


def test_overview(session: Session, settings: Settings, test: Test) -> TestOverview:
    attempts = {a.student_id: a for a in session.exec(select(Attempt).where(Attempt.test_id == test.id))}
    students = session.exec(
        select(User)
        .where(User.role == Role.student, or_(col(User.is_active), col(User.id).in_(list(attempts) or [0])))
        .order_by(User.username)
    ).all()
    mode = {a.id: modes.attempt_mode(settings, test, a) for a in attempts.values()}
    shown = [a.id for a in attempts.values() if mode[a.id] == modes.INDIVIDUAL]
    face, voice = _capture(session, shown)
    rows = []
    for student in students:
        row = OverviewRow(
            student_id=student.id,
            username=student.username,
            full_name=student.full_name,
            status=CompletionStatus.not_started,
        )
        attempt = attempts.get(student.id)
        if attempt is not None:
            row.status = CompletionStatus.submitted if attempt.submitted_at else CompletionStatus.in_progress
            row.attempt_id = attempt.id
            row.started_at, row.submitted_at = attempt.started_at, attempt.submitted_at
            if attempt.submitted_at is not None:
                row.duration_s = round((attempt.submitted_at - attempt.started_at).total_seconds(), 1)
            row.score, row.max_score = attempt.score, attempt.max_score
            row.awaiting_grading = grading.is_awaiting_grading(attempt)
            row.emotion_analysis = str(mode[attempt.id])
            row.consent = ConsentState(camera=attempt.camera, microphone=attempt.microphone)
            if mode[attempt.id] == modes.INDIVIDUAL:
                row.face, row.voice = face[attempt.id], voice[attempt.id]
        rows.append(row)
    return TestOverview(test_id=test.id, title=test.title, kind=str(test.kind), students=rows)
