"""Password hashing (Argon2id via pwdlib) and access tokens (JWT, HS256)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from web_server.core.config import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "ver", "iat", "exp", "jti"]


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


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int
    jti: str  # the token's own id: a logout revokes it (`RevokedToken`)
    expires_at: datetime


def create_access_token(user_id: int, token_version: int, settings: Settings) -> str:
    """`ver` is the user's token_version: bumping it (password change, deactivation) revokes the token."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES),
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(payload, _key(settings), algorithm=ALGORITHM)


def decode_access_token(token: str, settings: Settings) -> TokenClaims | None:
    """The claims of a valid, unexpired token that has every required claim (`exp` included); else None."""
    try:
        payload = jwt.decode(
            token, _key(settings), algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
        )
        jti = payload["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= 64:
            return None
        expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
        return TokenClaims(int(payload["sub"]), int(payload["ver"]), jti, expires_at)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def _key(settings: Settings) -> str:
    if not settings.SECRET_KEY:  # create_app resolves an empty SECRET_KEY to the generated key
        raise RuntimeError("No signing key: build the app with create_app() (it loads the generated key)")
    return settings.SECRET_KEY
