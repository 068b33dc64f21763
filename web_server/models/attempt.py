"""Attempts (one per student and test) and their answers."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from web_server.models.base import SafeStr, UTCDateTime, utcnow
from web_server.models.test import TestKind


class Attempt(SQLModel, table=True):
    __tablename__ = "attempts"
    __table_args__ = (sa.UniqueConstraint("test_id", "student_id"),)

    id: int | None = Field(default=None, primary_key=True)
    test_id: int = Field(foreign_key="tests.id", ondelete="CASCADE", index=True)
    student_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    score: int | None = None
    max_score: int | None = None
    # consent for this attempt (null: not told, counts as no): `camera` = webcam frames may be sent and
    # analysed; `microphone` = oral recordings may be analysed for emotion (they are kept as answers anyway)
    camera: bool | None = None
    microphone: bool | None = None
    # the emotion-analysis mode in force when the attempt started (off/self/aggregate/individual): what the
    # student was told on the consent page; later settings can lower, never raise it (null: older attempts)
    emotion_analysis: str | None = Field(default=None, max_length=16)
    # frame upload rate limit (GCRA): the theoretical arrival time of the next frame, in epoch milliseconds
    frame_tat_ms: int | None = Field(default=None, sa_type=sa.BigInteger)

    answers: list["Answer"] = Relationship(
        back_populates="attempt",
        sa_relationship_kwargs={
            "order_by": "Answer.question_id",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
        },
    )


class Answer(SQLModel, table=True):
    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", ondelete="CASCADE", index=True)
    question_id: int = Field(foreign_key="questions.id", ondelete="CASCADE", index=True)
    selected_option: int | None = None
    recording_path: str | None = Field(default=None, sa_type=sa.String(500))  # relative to MEDIA_DIR
    # an oral answer's grade (teachers, admins): null until graded
    points: int | None = None
    comment: str | None = Field(default=None, sa_type=sa.Text)
    graded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    graded_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    attempt: "Attempt" = Relationship(back_populates="answers")


# --- API shapes ------------------------------------------------------------------------------------


class AttemptStart(SQLModel):
    """What the student allowed on the consent page; a resumed attempt updates the fields given."""

    camera: bool | None = None
    microphone: bool | None = None


class ConsentChange(SQLModel):
    """`PUT /attempts/{id}/consent`: any subset; `false` withdraws (deleting what was analysed under it)."""

    camera: bool | None = None
    microphone: bool | None = None


class ConsentEvent(SQLModel, table=True):
    """The consent history: every value a student gave for a modality of an attempt, with its time."""

    __tablename__ = "consent_event"

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", ondelete="CASCADE", index=True)
    modality: str = Field(max_length=16)  # camera | microphone
    value: bool | None = None
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsentEventRead(SQLModel):
    attempt_id: int
    modality: str
    value: bool | None
    at: datetime


class AnswerSave(SQLModel):
    """`selected_option`: 0-based option index, or null to clear the answer."""

    selected_option: int | None = Field(ge=0)


class AnswerRead(SQLModel):
    """`correct`: single choice only, for staff always, for the student once submitted and only when the
    test shows it (`show_correct`). `points`/`comment`: the oral grade (null until graded)."""

    question_id: int
    selected_option: int | None
    has_recording: bool
    updated_at: datetime
    correct: bool | None = None
    points: int | None = None
    comment: str | None = None
    graded_at: datetime | None = None


class GradeSave(SQLModel):
    """`PUT /attempts/{id}/answers/{question_id}/grade`: points from 0 to the question's max_points."""

    points: int = Field(ge=0)
    comment: SafeStr | None = Field(default=None, max_length=4000)


class AttemptRead(SQLModel):
    id: int
    test_id: int
    student_id: int
    started_at: datetime
    submitted_at: datetime | None
    score: int | None
    max_score: int | None
    camera: bool | None
    microphone: bool | None
    emotion_analysis: str = "individual"  # the effective mode: who may see this attempt's emotions
    # submitted, but some recorded oral answers are not graded yet (score stays null until they are)
    awaiting_grading: bool = False
    answers: list[AnswerRead]


class ResultRead(SQLModel):
    """A submitted attempt with test and student names, for result lists."""

    attempt_id: int
    test_id: int
    test_title: str
    test_topic: str
    test_kind: TestKind
    student_id: int
    student_username: str
    student_full_name: str
    started_at: datetime
    submitted_at: datetime
    score: int | None
    max_score: int | None
    camera: bool | None
    microphone: bool | None
    awaiting_grading: bool = False
