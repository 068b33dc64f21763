"""Tests (quizzes) and their ordered questions."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import StringConstraints
from sqlmodel import Field, Relationship, SQLModel

from web_server.models.base import SafeStr, UTCDateTime, utcnow

MAX_QUESTIONS = 200
MAX_OPTIONS = 20
MODE_ORDER: list[str] = ["off", "self", "aggregate", "individual"]


class EmotionMode(StrEnum):
    """Who may see emotions inferred from frames and recordings (README "Lawful-use modes"), lowest first."""

    off = "off"  # nothing is analysed
    self = "self"  # each student sees their own; teachers see none
    aggregate = "aggregate"  # teachers see class-level distributions of at least MIN_GROUP_SIZE students
    individual = "individual"  # teachers see each student's emotions

    @property
    def rank(self) -> int:
        return MODE_ORDER.index(self)


class TestKind(StrEnum):
    __test__ = False
    single_choice = "single_choice"
    oral = "oral"


class Test(SQLModel, table=True):
    __test__ = False
    __tablename__ = "tests"
    __table_args__ = (sa.CheckConstraint("kind IN ('single_choice', 'oral')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=sa.String(200))
    topic: str = Field(default="", sa_type=sa.String(200))
    kind: TestKind = Field(sa_type=sa.String(16))
    published: bool = False
    # lowers the deployment's EMOTION_ANALYSIS for this test (off/self/aggregate); null: the deployment's
    emotion_analysis: str | None = Field(default=None, max_length=16)
    # students see which of their answers were right after submitting (the teacher chooses)
    show_correct: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    questions: list["Question"] = Relationship(
        back_populates="test",
        sa_relationship_kwargs={
            "order_by": "Question.position",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
        },
    )


class Question(SQLModel, table=True):
    __tablename__ = "questions"
    __table_args__ = (sa.UniqueConstraint("test_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    test_id: int = Field(foreign_key="tests.id", ondelete="CASCADE", index=True)
    position: int
    prompt: str = Field(sa_type=sa.Text)
    options: list[str] | None = Field(default=None, sa_type=sa.JSON)
    correct_option: int | None = None
    max_points: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    test: "Test" = Relationship(back_populates="questions")


# --- API shapes ------------------------------------------------------------------------------------


MAX_POINTS = 100


class QuestionCreate(SQLModel):
    """Single choice: 2+ non-empty `options` and `correct_option` (0-based index). Oral: only `prompt`.
    `max_points`: what a correct (single choice) or fully graded (oral) answer is worth."""

    prompt: SafeStr = Field(min_length=1, max_length=4000)
    options: list[Annotated[SafeStr, StringConstraints(max_length=1000)]] | None = Field(
        default=None, max_length=MAX_OPTIONS
    )
    correct_option: int | None = Field(default=None, ge=0)
    max_points: int = Field(default=1, ge=1, le=MAX_POINTS)


class TestCreate(SQLModel):
    __test__ = False
    title: SafeStr = Field(min_length=1, max_length=200)
    topic: SafeStr = Field(default="", max_length=200)
    kind: TestKind
    published: bool = False
    emotion_analysis: EmotionMode | None = None
    show_correct: bool = False
    questions: list[QuestionCreate] = Field(default_factory=list, max_length=MAX_QUESTIONS)


class TestUpdate(SQLModel):
    """Any subset. `questions` replaces all questions (refused once the test has attempts)."""

    __test__ = False
    title: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    topic: SafeStr | None = Field(default=None, max_length=200)
    kind: TestKind | None = None
    published: bool | None = None
    emotion_analysis: EmotionMode | None = None  # send null to follow the deployment's mode again
    show_correct: bool | None = None
    questions: list[QuestionCreate] | None = Field(default=None, max_length=MAX_QUESTIONS)


class QuestionRead(SQLModel):
    """`correct_option` is always null for students."""

    id: int
    position: int
    prompt: str
    options: list[str] | None
    correct_option: int | None = None
    max_points: int = 1


class MyAttempt(SQLModel):
    id: int
    submitted_at: datetime | None


class TestRead(SQLModel):
    """`my_attempt` is the caller's own attempt (students only; null when none or for staff)."""

    __test__ = False
    id: int
    title: str
    topic: str
    kind: TestKind
    published: bool
    created_at: datetime
    created_by_id: int | None
    emotion_analysis: EmotionMode | None = None  # the test's own setting (null: the deployment's)
    effective_emotion_analysis: EmotionMode = EmotionMode.individual  # what applies to new attempts
    show_correct: bool = False  # students see which answers were right after submitting
    questions: list[QuestionRead]
    my_attempt: MyAttempt | None = None
