"""Emotion capture data: the samples predicted from webcam frames and oral answers, and the media behind them.

- `EmotionSample`: one prediction at one time for one question of one attempt. A face sample is one frame
  (the largest face's emotion, `faces` = how many faces the frame had; 0 faces -> no emotion). A voice sample
  is one segment of a recording, timed `started_at + segment offset`. `status` is `ok` (analysed),
  `uncertain` (analysed, but the AI server flagged the prediction as unreliable: counted apart, never as an
  emotion), `pending` (media kept, waiting for the AI server) or `unanalysed` (gave up; the UI shows a gap).
- `CaptureMedia`: an upload, and the analysis queue (`status` pending: waiting for a worker). A webcam frame
  waits in `data` (the database, so that every web server and worker process reaches it) and its bytes are
  dropped once analysed; with STORE_RAW_FRAMES it is a file under MEDIA_DIR instead (`path`, relative to
  it), kept. Audio recordings are the oral answers: files that stay until the retention period ends.
- `CaptureHint`: the last face box found for an attempt, sent to the AI server with its next frames
  (it looks there first); `uses` counts the frames analysed with it since the last whole-frame search.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from web_server.models.base import UTCDateTime, utcnow


class Modality(StrEnum):
    face = "face"
    voice = "voice"


class SampleStatus(StrEnum):
    ok = "ok"
    pending = "pending"
    unanalysed = "unanalysed"
    uncertain = "uncertain"  # analysed, but the model was not confident enough (or the face/speech too poor)


class MediaStatus(StrEnum):
    pending = "pending"
    analysed = "analysed"
    unanalysed = "unanalysed"
    kept = "kept"  # a recording kept as the answer and never analysed (no voice-analysis consent, mode off)


class CaptureMedia(SQLModel, table=True):
    __tablename__ = "capture_media"
    # the analysis queue: due media of one modality, oldest first (and the pending count)
    __table_args__ = (sa.Index("ix_capture_media_queue", "status", "modality", "next_try_at"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", ondelete="CASCADE", index=True)
    question_id: int | None = Field(default=None, foreign_key="questions.id", ondelete="CASCADE")
    modality: str = Field(max_length=8)
    path: str | None = Field(default=None, max_length=400)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    size_bytes: int = 0
    captured_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=MediaStatus.pending, max_length=12)
    tries: int = 0
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)  # a queued frame's bytes


class CaptureHint(SQLModel, table=True):
    """Where the attempt's face was last seen (full-frame pixels), for the AI server's region search."""

    __tablename__ = "capture_hint"

    attempt_id: int = Field(foreign_key="attempts.id", ondelete="CASCADE", primary_key=True)
    box: str = Field(max_length=64)  # "x,y,w,h"
    uses: int = 0  # frames analysed with this hint since the last whole-frame search
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EmotionSample(SQLModel, table=True):
    __tablename__ = "emotion_sample"
    __table_args__ = (
        # one attempt's charts and timeline; sample counts per attempt (index-only on PostgreSQL)
        sa.Index("ix_emotion_sample_attempt", "attempt_id", "modality", "status", "offset_ms"),
        # covers the test report (index-only scan on PostgreSQL): per question, modality and emotion
        sa.Index(
            "ix_emotion_sample_question_report", "question_id", "modality", "status", "emotion", "confidence"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", ondelete="CASCADE")
    question_id: int | None = Field(default=None, foreign_key="questions.id", ondelete="CASCADE")
    media_id: int | None = Field(
        default=None, foreign_key="capture_media.id", ondelete="SET NULL", index=True
    )
    modality: str = Field(max_length=8)
    captured_at: datetime = Field(sa_type=UTCDateTime)
    # milliseconds since the attempt started (clamped at 0): integer buckets in SQL on SQLite and PostgreSQL
    offset_ms: int = Field(default=0, sa_type=sa.BigInteger)
    emotion: str | None = Field(default=None, max_length=16)
    confidence: float | None = None
    scores: dict[str, float] | None = Field(default=None, sa_type=sa.JSON)
    faces: int | None = None
    status: str = Field(default=SampleStatus.ok, max_length=12)
    segment_start_s: float | None = None
    segment_end_s: float | None = None


class SampleRead(SQLModel):
    """One point of the timeline (`GET /attempts/{id}/emotions`)."""

    modality: str
    captured_at: datetime
    question_id: int | None
    emotion: str | None
    confidence: float | None
    scores: dict[str, float] | None
    faces: int | None
    status: str
    segment_start_s: float | None = None
    segment_end_s: float | None = None
