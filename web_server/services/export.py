"""A user's data export (right of access): everything FASEL holds about one user, as a zip.

`fasel-export.json` holds the profile, every attempt with its test, answers, score, consent and emotion
samples, the media kept (recordings, kept frames), the consent history, and the audit log entries about the
user (who viewed or exported their emotion data) and by the user (for teachers and admins); `media/` holds
the kept files themselves under their stored paths. Emotion samples are included whatever the analysis mode:
they are data held about the student even when nobody else may see them.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import IO, Any

from sqlmodel import Session, col, select

from web_server.core.config import Settings
from web_server.models.attempt import Answer, Attempt
from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample
from web_server.models.test import Question, Test
from web_server.models.user import User
from web_server.services import audit, consent
from web_server.services.attempts import effective_modes
from web_server.services.charts import SAMPLE_FIELDS

FORMAT = "fasel-export-1"
SPOOL_BYTES = 16 * 1024 * 1024  # kept in memory up to this size, then in a temporary file


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(obj: Any, fields: tuple[str, ...] | list[str]) -> dict:
    return {f: _iso(getattr(obj, f)) for f in fields}


def collect(session: Session, settings: Settings, user: User) -> tuple[dict, list[str]]:
    """The export's JSON document and the media files (paths relative to MEDIA_DIR) to include."""
    attempts = list(
        session.exec(select(Attempt).where(Attempt.student_id == user.id).order_by(col(Attempt.id))).all()
    )
    ids = [a.id for a in attempts]
    mode = effective_modes(session, settings, attempts)
    tests = {
        t.id: t
        for t in session.exec(select(Test).where(col(Test.id).in_({a.test_id for a in attempts}))).all()
    }
    questions = {
        q.id: q for q in session.exec(select(Question).where(col(Question.test_id).in_(tests.keys()))).all()
    }
    answers: dict[int, list[Answer]] = defaultdict(list)
    samples: dict[int, list[dict]] = defaultdict(list)
    media: dict[int, list[CaptureMedia]] = defaultdict(list)
    if ids:
        for a in session.exec(select(Answer).where(col(Answer.attempt_id).in_(ids))).all():
            answers[a.attempt_id].append(a)
        sample_query = (
            select(EmotionSample.attempt_id, *(getattr(EmotionSample, f) for f in SAMPLE_FIELDS))
            .where(col(EmotionSample.attempt_id).in_(ids))
            .order_by(col(EmotionSample.attempt_id), col(EmotionSample.captured_at), col(EmotionSample.id))
        )
        for attempt_id, *values in session.exec(sample_query).all():
            samples[attempt_id].append({f: _iso(v) for f, v in zip(SAMPLE_FIELDS, values, strict=True)})
        for m in session.exec(
            select(CaptureMedia).where(col(CaptureMedia.attempt_id).in_(ids)).order_by(col(CaptureMedia.id))
        ).all():
            media[m.attempt_id].append(m)

    files: list[str] = []

    def file_entry(relative: str | None) -> str | None:
        if not relative or not (Path(settings.MEDIA_DIR) / relative).is_file():
            return None
        if relative not in files:
            files.append(relative)
        return f"media/{relative}"

    attempt_docs = []
    for a in attempts:
        test = tests.get(a.test_id)
        attempt_docs.append(
            {
                **_row(a, ("id", "started_at", "submitted_at", "score", "max_score", "camera", "microphone")),
                "emotion_analysis": mode[a.id],
                "test": _row(test, ("id", "title", "topic", "kind")) if test else None,
                "answers": [
                    {
                        "question_id": ans.question_id,
                        "question_position": questions[ans.question_id].position
                        if ans.question_id in questions
                        else None,
                        "question_prompt": questions[ans.question_id].prompt
                        if ans.question_id in questions
                        else None,
                        "selected_option": ans.selected_option,
                        "recording": file_entry(ans.recording_path),
                        "updated_at": _iso(ans.updated_at),
                    }
                    for ans in sorted(answers[a.id], key=lambda x: x.question_id)
                ],
                "emotion_samples": samples[a.id],
                "media": [
                    {
                        **_row(
                            m,
                            (
                                "modality",
                                "question_id",
                                "status",
                                "captured_at",
                                "content_type",
                                "size_bytes",
                            ),
                        ),
                        "file": file_entry(m.path),
                    }
                    for m in media[a.id]
                ],
            }
        )
    written = session.exec(
        select(Test.id, Test.title).where(Test.created_by_id == user.id).order_by(col(Test.id))
    ).all()
    doc = {
        "format": FORMAT,
        "exported_at": _iso(utcnow()),
        "profile": _row(user, ("id", "username", "full_name", "role", "is_active", "created_at")),
        "attempts": attempt_docs,
        "consent_history": [e.model_dump(mode="json") for e in consent.history(session, ids)],
        "audit_about_me": [
            e.model_dump(mode="json") for e in audit.list_entries(session, student_id=user.id, limit=100_000)
        ],
        "audit_by_me": [
            e.model_dump(mode="json") for e in audit.list_entries(session, actor_id=user.id, limit=100_000)
        ],
        "tests_written": [{"id": tid, "title": title} for tid, title in written],
    }
    return doc, files


def build_zip(session: Session, settings: Settings, user: User) -> IO[bytes]:
    """The zip (rewound, ready to stream): `fasel-export.json` and `media/...`."""
    doc, files = collect(session, settings, user)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (closed by the response)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fasel-export.json", json.dumps(doc, indent=2, ensure_ascii=False))
        for relative in files:
            zf.write(
                Path(settings.MEDIA_DIR) / relative, f"media/{relative}", compress_type=zipfile.ZIP_STORED
            )
    out.seek(0)
    return out
