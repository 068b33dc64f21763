"""Login: credential check, deactivated accounts, failed-login rate limit."""

from __future__ import annotations

from sqlmodel import Session, select

from web_server.core.config import Settings
from web_server.core.security import create_access_token, hash_password, verify_password
from web_server.models.user import User
from web_server.services.errors import Forbidden, TooManyRequests, Unauthorized
from web_server.services.ratelimit import LoginRateLimiter

_dummy_hashes: dict[tuple[int, int], str] = {}


def _dummy_hash(settings: Settings) -> str:
    """A hash to verify against for unknown usernames, so both cases take about the same time."""
    key = (settings.PASSWORD_HASH_TIME_COST, settings.PASSWORD_HASH_MEMORY_KIB)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hash_password("not-a-real-password", settings)
    return _dummy_hashes[key]


def login(
    session: Session, settings: Settings, limiter: LoginRateLimiter, username: str, password: str, client: str
) -> str:
    """Return an access token, or raise 401 (bad credentials), 403 (deactivated), 429 (too many failures)."""
    username = username.strip().lower()
    key = (username, client)
    wait = limiter.retry_after(key)
    if wait is not None:
        raise TooManyRequests(
            f"Too many failed login attempts. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    user = None
    if "\x00" not in username:  # PostgreSQL refuses NUL in text; no username contains one
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, _dummy_hash(settings), settings)
        ok = False
    else:
        ok = verify_password(password, user.hashed_password, settings)
    if not ok or user is None:
        limiter.record_failure(key)
        raise Unauthorized("Incorrect username or password.", headers={"WWW-Authenticate": "Bearer"})
    if not user.is_active:
        raise Forbidden("This account has been deactivated. Ask an administrator to reactivate it.")
    limiter.reset(key)
    return create_access_token(user.id, user.token_version, settings)
