"""The audit log of views and exports of students' emotion data by other people (teachers, admins).

Written by the routes that show one student's emotions to someone else (an attempt's timeline and charts,
the per-sample CSV of a test, a user's data export); read by admins (`GET /audit`) and, for the entries
about themselves, by students (`GET /users/me/audit`). A student looking at their own data is not logged.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from web_server.models.audit import AuditEntry, AuditRead
from web_server.models.user import User


def record(
    session: Session,
    actor: User,
    student_ids: Iterable[int],
    action: str,
    detail: str,
    attempt_id: int | None = None,
    test_id: int | None = None,
) -> int:
    """Log that `actor` saw or exported the emotion data of `student_ids` (not their own); commits."""
    entries = [
        AuditEntry(
            actor_id=actor.id,
            actor_username=actor.username,
            actor_role=str(actor.role),
            student_id=student_id,
            action=action,
            attempt_id=attempt_id,
            test_id=test_id,
            detail=detail[:300],
        )
        for student_id in sorted(set(student_ids))
        if student_id != actor.id
    ]
    if entries:
        session.add_all(entries)
        session.commit()
    return len(entries)


def _query(student_id: int | None, actor_id: int | None):
    student = aliased(User)
    query = select(AuditEntry, student.username).outerjoin(student, student.id == AuditEntry.student_id)
    if student_id is not None:
        query = query.where(AuditEntry.student_id == student_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return query


def count_entries(session: Session, student_id: int | None = None, actor_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if student_id is not None:
        query = query.where(AuditEntry.student_id == student_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return session.exec(query).one()


def list_entries(
    session: Session,
    student_id: int | None = None,
    actor_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRead]:
    """Newest first."""
    rows = session.exec(
        _query(student_id, actor_id)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [AuditRead(**entry.model_dump(), student_username=username) for entry, username in rows]
