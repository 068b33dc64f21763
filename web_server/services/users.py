"""User administration: create, list, edit, delete, CSV import, own password change."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from web_server.capture.files import remove_attempt_media
from web_server.core.config import Settings
from web_server.core.security import hash_password, verify_password
from web_server.models.attempt import Answer, Attempt
from web_server.models.base import is_valid_id
from web_server.models.emotion import CaptureMedia
from web_server.models.user import ImportError_, ImportReport, Role, User, UserCreate, UserUpdate
from web_server.services import messages
from web_server.services.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge

CSV_COLUMNS = ("username", "password", "full_name", "role")


def get_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    return user


def _new_user(data: UserCreate, settings: Settings) -> User:
    return User(
        username=data.username,
        full_name=data.full_name,
        role=data.role,
        hashed_password=hash_password(data.password, settings),
    )


def create_user(session: Session, settings: Settings, data: UserCreate) -> User:
    if get_by_username(session, data.username) is not None:
        raise Conflict(f"The username '{data.username}' is already taken.")
    user = _new_user(data, settings)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent request created the same username
        session.rollback()
        raise Conflict(f"The username '{data.username}' is already taken.") from exc
    session.refresh(user)
    return user


def list_users(
    session: Session, role: Role | None = None, active: bool | None = None, search: str | None = None
) -> list[User]:
    query = select(User).order_by(User.username)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active == active)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            func.lower(User.username).like(pattern) | func.lower(User.full_name).like(pattern)
        )
    return list(session.exec(query).all())


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.admin, User.is_active)
    return session.exec(query).one()


def update_user(session: Session, settings: Settings, actor: User, user_id: int, data: UserUpdate) -> User:
    """Admins cannot demote or deactivate themselves, so that at least one active admin remains."""
    user = get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True)
    if user.id == actor.id and (
        changes.get("is_active") is False or ("role" in changes and changes["role"] != Role.admin)
    ):
        raise Conflict("You cannot deactivate yourself or remove your own admin role.")
    if changes.get("is_active") is False and user.is_active:
        user.token_version += 1  # deactivation ends every session, even after a later reactivation
    for field in ("full_name", "role", "is_active"):
        if changes.get(field) is not None:
            value = changes[field].strip() if field == "full_name" else changes[field]
            setattr(user, field, value)
    if changes.get("password") is not None:
        _set_password(user, changes["password"], settings)
    session.add(user)
    session.flush()
    if _active_admins(session) == 0:
        session.rollback()
        raise Conflict("This change would leave no active administrator.")
    session.commit()
    session.refresh(user)
    return user


def change_own_password(
    session: Session, settings: Settings, user: User, current_password: str, new_password: str
) -> None:
    """Earlier tokens, the caller's own included, stop working: log in again with the new password."""
    if not verify_password(current_password, user.hashed_password, settings):
        raise Forbidden("The current password is not correct.")
    _set_password(user, new_password, settings)
    session.add(user)
    session.commit()


def _set_password(user: User, password: str, settings: Settings) -> None:
    """A new password revokes every token issued before it (see `token_version`)."""
    user.hashed_password = hash_password(password, settings)
    user.token_version += 1


def delete_user(session: Session, settings: Settings, actor: User, user_id: int) -> None:
    """Delete a user and everything of theirs (attempts, answers and, by ON DELETE CASCADE, capture data).

    Recorded answer files under MEDIA_DIR are removed too. Tests a teacher wrote stay (author set to null).
    """
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise Conflict("You cannot delete your own account.")
    recordings = session.exec(
        select(Answer.recording_path)
        .join(Attempt, Answer.attempt_id == Attempt.id)
        .where(Attempt.student_id == user.id, Answer.recording_path.is_not(None))
    ).all()
    attempt_ids = list(session.exec(select(Attempt.id).where(Attempt.student_id == user.id)).all())
    # The analysis workers lock queued media first; the cascade below would lock attempts first. Locking the
    # queue rows first, in id order, keeps one lock order (no deadlock with a worker on PostgreSQL).
    session.exec(
        select(CaptureMedia.id)
        .where(col(CaptureMedia.attempt_id).in_(attempt_ids))
        .order_by(col(CaptureMedia.id))
        .with_for_update()
    ).all()
    session.delete(user)
    session.commit()
    remove_attempt_media(Path(settings.MEDIA_DIR), attempt_ids)  # capture files (frames, recordings)
    media_root = Path(settings.MEDIA_DIR).resolve()
    for relative in recordings:
        path = (media_root / relative).resolve()
        if path.is_relative_to(media_root):
            path.unlink(missing_ok=True)


def _validation_message(exc: ValidationError) -> str:
    return messages.field_errors(exc)


def import_csv(session: Session, settings: Settings, content: bytes) -> ImportReport:
    """Create users from CSV with a header `username,password,full_name,role` (role empty -> student).

    Bad rows are reported (row = line number, header is line 1) and do not stop the good ones.
    """
    if len(content) > settings.MAX_CSV_BYTES:
        raise PayloadTooLarge(f"The CSV file is larger than {settings.MAX_CSV_BYTES} bytes.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The CSV file must be UTF-8 text.") from exc
    try:  # a first pass finds what the csv module cannot read (e.g. a cell over its field size limit)
        for _ in csv.reader(io.StringIO(text, newline="")):
            pass
    except csv.Error as exc:
        raise InvalidInput(f"The CSV file cannot be read: {exc}.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in ("username", "password") if column not in header]
    if missing:
        raise InvalidInput(f"The CSV header must be {','.join(CSV_COLUMNS)}; missing: {', '.join(missing)}.")
    reader.fieldnames = header
    existing = set(session.exec(select(User.username)).all())
    seen: set[str] = set()
    errors: list[ImportError_] = []
    to_create: list[User] = []
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key is not None):
            continue  # blank line
        username = (row.get("username") or "").strip().lower()
        if None in row:
            errors.append(ImportError_(row=line, username=username, message="Too many columns in this row."))
            continue
        try:
            data = UserCreate(
                username=row.get("username") or "",
                password=row.get("password") or "",
                full_name=row.get("full_name") or "",
                role=(row.get("role") or "").strip().lower() or Role.student,
            )
        except ValidationError as exc:
            errors.append(ImportError_(row=line, username=username, message=_validation_message(exc)))
            continue
        if data.username in existing:
            message = f"The username '{data.username}' already exists."
            errors.append(ImportError_(row=line, username=data.username, message=message))
            continue
        if data.username in seen:
            message = f"The username '{data.username}' appears more than once in the file."
            errors.append(ImportError_(row=line, username=data.username, message=message))
            continue
        seen.add(data.username)
        to_create.append(_new_user(data, settings))
    session.add_all(to_create)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent request took one of the usernames: nothing was saved
        session.rollback()
        raise Conflict(
            "Some usernames were created by someone else meanwhile; import the file again."
        ) from exc
    return ImportReport(created=len(to_create), errors=errors)
