"""Security state shared by every web server process: login throttling counters, revoked tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from web_server.models.base import UTCDateTime


class LoginThrottle(SQLModel, table=True):
    """Failed attempts counted under one key (account, address, account + address, password change).

    `failures` counts attempts since `window_start` (a fixed window); while `blocked_until` is in the future
    the key is refused at once (429). See `web_server.services.ratelimit`.
    """

    __tablename__ = "login_throttle"

    key: str = Field(sa_type=sa.String(80), primary_key=True)
    failures: int = 0
    window_start: datetime = Field(sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """Access tokens ended by a logout (their `jti`), kept until they would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(sa_type=sa.String(64), primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
