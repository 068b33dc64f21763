"""`GET /tests/{id}/overview`: who started, finished and how much was captured, per student."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import SQLModel


class CompletionStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"


class FaceCapture(SQLModel):
    """Webcam frames of the attempt (`frames`: all sent; `with_face`: analysed with someone in view;
    `pending`: waiting for the AI server)."""

    frames: int = 0
    with_face: int = 0
    pending: int = 0


class VoiceCapture(SQLModel):
    """Seconds of analysed speech (voice-emotion segments) and recordings waiting for analysis."""

    seconds: float = 0.0
    pending: int = 0


class ConsentState(SQLModel):
    camera: bool | None = None
    microphone: bool | None = None


class OverviewRow(SQLModel):
    """One active student (or any student with an attempt). `face`/`voice` are null where the mode does not
    let teachers see per-student capture figures (below `individual`) or before an attempt."""

    student_id: int
    username: str
    full_name: str
    status: CompletionStatus
    attempt_id: int | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    duration_s: float | None = None
    score: int | None = None
    max_score: int | None = None
    awaiting_grading: bool = False
    emotion_analysis: str | None = None  # the attempt's effective mode
    face: FaceCapture | None = None
    voice: VoiceCapture | None = None
    consent: ConsentState | None = None


class TestOverview(SQLModel):
    __test__ = False
    test_id: int
    title: str
    kind: str
    students: list[OverviewRow]


class GridEmotion(BaseModel):
    """One modality of a cell: the dominant emotion and its share of the `n` analysed samples."""

    dominant: str | None
    share: float | None
    n: int
    uncertain: int


class GridCell(BaseModel):
    question_id: int
    face: GridEmotion
    voice: GridEmotion
    correct: bool | None


class GridQuestion(BaseModel):
    question_id: int
    number: int
    prompt: str


class GridStudent(BaseModel):
    student_id: int
    username: str
    full_name: str
    attempt_id: int
    cells: list[GridCell]


class EmotionGrid(BaseModel):
    """`GET /tests/{id}/grid`: students x questions (mode `individual`)."""

    test_id: int
    questions: list[GridQuestion]
    students: list[GridStudent]
