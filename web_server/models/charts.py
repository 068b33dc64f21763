"""Read models of the emotion charts: one attempt's charts, the charts list, a test's class report.

They describe the JSON the chart services (`services/charts.py`, `chart_context.py`, `report_correctness.py`,
`fusion.py`) build; per-modality blocks have the keys `face` and `voice`. `counts` maps emotion -> samples.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from web_server.models.test import EmotionMode, TestKind

Counts = dict[str, int]


class Labels(BaseModel):
    """Each model's emotion labels, in its order."""

    face: list[str]
    voice: list[str]


class BarBucket(BaseModel):
    """One time bucket `[start_s, end_s)` of the bar chart: analysed samples per emotion."""

    start_s: int
    end_s: int
    counts: Counts
    total: int
    mean_confidence: float | None


class PieSlice(BaseModel):
    emotion: str
    count: int
    share: float


class QuestionDistribution(BaseModel):
    question_id: int
    position: int | None
    counts: Counts
    total: int


class FusedWindow(BaseModel):
    """One window of the fused face+voice timeline (docs/fusion.md)."""

    start_s: float
    end_s: float
    emotion: str
    confidence: float
    scores: dict[str, float]
    sources: list[Literal["face", "voice"]]


class Presence(BaseModel):
    """Analysed frames by the number of faces in view."""

    none: int
    one: int
    several: int


class Missing(BaseModel):
    """Samples that are no emotion (yet): waiting, given up, or predictions the model was unsure of."""

    pending: int
    unanalysed: int
    uncertain: int


class GapBucket(BaseModel):
    """A time bucket with analysed samples that are no emotion."""

    start_s: int
    end_s: int
    uncertain: int
    nobody: int
    several: int


class QuestionSpan(BaseModel):
    """When the student was on a question (from the samples' times); `correct`: single choice, if shown."""

    question_id: int
    number: int
    start_s: float
    end_s: float
    correct: bool | None


class Bars(BaseModel):
    face: list[BarBucket]
    voice: list[BarBucket]


class Pies(BaseModel):
    face: list[PieSlice]
    voice: list[PieSlice]


class PerQuestion(BaseModel):
    face: list[QuestionDistribution]
    voice: list[QuestionDistribution]


class MissingByModality(BaseModel):
    face: Missing
    voice: Missing


class Gaps(BaseModel):
    face: list[GapBucket]
    voice: list[GapBucket]


class AttemptCharts(BaseModel):
    """`GET /attempts/{id}/charts`."""

    attempt_id: int
    bucket_seconds: int
    labels: Labels
    bar: Bars
    pie: Pies
    per_question: PerQuestion
    fused: list[FusedWindow]
    presence: Presence
    missing: MissingByModality
    gaps: Gaps
    questions: list[QuestionSpan]


class StatusCounts(BaseModel):
    """Samples of one modality by status."""

    ok: int = 0
    pending: int = 0
    unanalysed: int = 0
    uncertain: int = 0


class SampleCounts(BaseModel):
    face: StatusCounts
    voice: StatusCounts


class ChartListItem(BaseModel):
    """One row of `GET /charts`: an attempt with its test, student and sample counts."""

    attempt_id: int
    test_id: int
    test_title: str
    test_kind: TestKind
    student_id: int
    student_username: str
    student_full_name: str
    started_at: datetime
    submitted_at: datetime | None
    camera: bool | None
    microphone: bool | None
    emotion_analysis: EmotionMode
    samples: SampleCounts


class GroupCell(BaseModel):
    """Class-level figure behind `students` students; `suppressed`: withheld (fewer than MIN_GROUP_SIZE)."""

    counts: Counts
    total: int
    students: int
    suppressed: bool


class ReportCell(BaseModel):
    """One question's figure for one modality, with the mean confidence of its samples."""

    counts: Counts
    total: int
    mean_confidence: float | None
    students: int
    suppressed: bool


class GroupCells(BaseModel):
    face: GroupCell
    voice: GroupCell


class ByCorrectness(BaseModel):
    """Emotions of the students who answered a single-choice question right, and of the others."""

    correct: GroupCells
    incorrect: GroupCells


class ReportQuestion(BaseModel):
    question_id: int
    position: int
    prompt: str
    face: ReportCell
    voice: ReportCell
    by_correctness: ByCorrectness | None


class TestReport(BaseModel):
    """`GET /tests/{id}/report`: per-question emotion distributions across all attempts of a test."""

    __test__ = False
    test_id: int
    title: str
    kind: TestKind
    attempts: int
    emotion_analysis: EmotionMode
    min_group_size: int
    labels: Labels
    questions: list[ReportQuestion]
    overall: GroupCells
