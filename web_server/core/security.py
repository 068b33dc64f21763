"""Password hashing (Argon2id via pwdlib) and access tokens (JWT, HS256)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from web_server.core.config import Settings

ALGORITHM = "HS256"


@lru_cache
def _password_hash(time_cost: int, memory_kib: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))


def password_hasher(settings: Settings) -> PasswordHash:
    return _password_hash(settings.PASSWORD_HASH_TIME_COST, settings.PASSWORD_HASH_MEMORY_KIB)


def hash_password(password: str, settings: Settings) -> str:
    return password_hasher(settings).hash(password)


def verify_password(password: str, hashed: str, settings: Settings) -> bool:
    try:
        return password_hasher(settings).verify(password, hashed)
    except Exception:  # malformed stored hash: treat as a mismatch
        return False


def create_access_token(user_id: int, token_version: int, settings: Settings) -> str:
    """`ver` is the user's token_version: bumping it (password change, deactivation) revokes the token."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES),
    }
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=ALGORITHM)


def decode_access_token(token: str, settings: Settings) -> tuple[int, int] | None:
    """(user id, token version) of a valid, unexpired token; None otherwise."""
    try:
        payload = jwt.decode(token, settings.SECRET_KEY, algorithms=[ALGORITHM])
        return int(payload["sub"]), int(payload["ver"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
