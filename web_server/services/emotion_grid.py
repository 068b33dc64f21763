"""A students x questions grid of one test: per cell the dominant emotion of each modality with its n
(analysed samples) and how many were uncertain, and whether a single-choice answer was right.

Each cell is one student's emotions: teachers see it only where the mode is `individual` (403 otherwise), and
the route audits the view for every student in it."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, func, select

from web_server.core.config import Settings
from web_server.models.attempt import Answer, Attempt
from web_server.models.emotion import EmotionSample, SampleStatus
from web_server.models.test import Test
from web_server.models.user import User
from web_server.services import modes
from web_server.services.errors import Forbidden

S = EmotionSample


def check_allowed(settings: Settings, test: Test) -> None:
    if modes.mode_for_test(settings, test) != modes.INDIVIDUAL:
        raise Forbidden(
            "The students x questions grid shows each student's emotions: it needs emotion analysis mode "
            "'individual' for this test. Open the class report instead."
        )


def emotion_grid(session: Session, settings: Settings, test: Test) -> dict:
    check_allowed(settings, test)
    rows = session.exec(
        select(Attempt, User).join(User, User.id == Attempt.student_id).where(Attempt.test_id == test.id)
    ).all()
    shown = [(a, u) for a, u in rows if modes.attempt_mode(settings, test, a) == modes.INDIVIDUAL]
    ids = [a.id for a, _ in shown] or [0]
    counts: dict[tuple, dict[str, int]] = defaultdict(dict)
    uncertain: dict[tuple, int] = defaultdict(int)
    for attempt_id, qid, modality, status, emotion, n in session.exec(
        select(S.attempt_id, S.question_id, S.modality, S.status, S.emotion, func.count())
        .where(
            col(S.attempt_id).in_(ids),
            col(S.status).in_([SampleStatus.ok.value, SampleStatus.uncertain.value]),
        )
        .group_by(S.attempt_id, S.question_id, S.modality, S.status, S.emotion)
    ).all():
        key = (attempt_id, qid, modality)
        if status == SampleStatus.uncertain:
            uncertain[key] += n
        elif emotion is not None:
            counts[key][emotion] = counts[key].get(emotion, 0) + n
    chosen = {
        (a.attempt_id, a.question_id): a.selected_option
        for a in session.exec(select(Answer).where(col(Answer.attempt_id).in_(ids))).all()
    }

    def cell(attempt: Attempt, question) -> dict:
        out: dict = {"question_id": question.id}
        for modality in ("face", "voice"):
            found = counts.get((attempt.id, question.id, modality), {})
            n = sum(found.values())
            dominant = max(sorted(found), key=found.get) if found else None
            out[modality] = {
                "dominant": dominant,
                "share": round(found[dominant] / n, 3) if dominant else None,
                "n": n,
                "uncertain": uncertain.get((attempt.id, question.id, modality), 0),
            }
        right = None
        if question.options is not None and attempt.submitted_at is not None:
            right = chosen.get((attempt.id, question.id)) == question.correct_option
        out["correct"] = right
        return out

    return {
        "test_id": test.id,
        "questions": [
            {"question_id": q.id, "number": q.position + 1, "prompt": q.prompt} for q in test.questions
        ],
        "students": [
            {
                "student_id": user.id,
                "username": user.username,
                "full_name": user.full_name,
                "attempt_id": attempt.id,
                "cells": [cell(attempt, q) for q in test.questions],
            }
            for attempt, user in sorted(shown, key=lambda au: au[1].username)
        ],
    }
