"""Users and roles."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from web_server.models.base import SafeStr, UTCDateTime, utcnow

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.@-]{2,63}$"
PASSWORD_MIN, PASSWORD_MAX = 8, 128


class Role(StrEnum):
    student = "student"
    teacher = "teacher"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("role IN ('student', 'teacher', 'admin')", name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=sa.String(64), unique=True, index=True)
    full_name: str = Field(default="", sa_type=sa.String(200))
    role: Role = Field(default=Role.student, sa_type=sa.String(16))
    is_active: bool = True
    hashed_password: str = Field(sa_type=sa.String(255))
    # in every access token; bumped on a password change or deactivation, which revokes earlier tokens
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _normalise_username(value: str) -> str:
    return value.strip().lower()


class UserCreate(SQLModel):
    """Usernames are stored lower-case (3-64 characters: letters, digits, `_ . @ -`)."""

    username: SafeStr = Field(max_length=64)
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    full_name: SafeStr = Field(default="", max_length=200)
    role: Role = Role.student

    @field_validator("username", mode="before")
    @classmethod
    def _username(cls, value: object) -> object:
        return _normalise_username(value) if isinstance(value, str) else value

    @field_validator("username")
    @classmethod
    def _username_pattern(cls, value: str) -> str:
        if not re.fullmatch(USERNAME_PATTERN, value):
            raise ValueError(
                "a username has 3-64 characters (letters, digits, _ . @ -), starting with a letter or digit"
            )
        return value

    @field_validator("full_name", mode="before")
    @classmethod
    def _full_name(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class UserUpdate(SQLModel):
    """Admin edit: any subset of the fields; `password` resets the password."""

    full_name: SafeStr | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class PasswordChange(SQLModel):
    current_password: str
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UserRead(SQLModel):
    id: int
    username: str
    full_name: str
    role: Role
    is_active: bool


class ImportError_(SQLModel):
    row: int
    username: str
    message: str


class ImportReport(SQLModel):
    """`row` is the line number in the CSV file (the header is line 1)."""

    created: int
    errors: list[ImportError_]
