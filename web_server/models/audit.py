"""The audit log: who viewed or exported which student's emotion data, when, and what."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from web_server.models.base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """One view or export of a student's emotion data by someone else (a teacher or an admin).

    `actor_username` keeps the name when the actor's account is deleted later (`actor_id` becomes null);
    the entries about a student go with the student's account.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_student_at", "student_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    actor_username: str = Field(max_length=64)
    actor_role: str = Field(max_length=16)
    student_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    action: str = Field(max_length=32)  # emotions | charts | report_csv | export
    attempt_id: int | None = None
    test_id: int | None = None
    detail: str = Field(default="", max_length=300)  # e.g. "charts of attempt 12"


class AuditRead(SQLModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_username: str
    actor_role: str
    student_id: int | None
    student_username: str | None = None
    action: str
    attempt_id: int | None
    test_id: int | None
    detail: str
