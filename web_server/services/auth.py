"""Login: credential check, deactivated accounts, failed-login limits (`ratelimit`), logout."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from web_server.core.config import Settings
from web_server.core.security import TokenClaims, create_access_token, hash_password, verify_password
from web_server.models.base import utcnow
from web_server.models.security import RevokedToken
from web_server.models.user import User
from web_server.services import ratelimit
from web_server.services.errors import Forbidden, Unauthorized

_dummy_hashes: dict[tuple[int, int], str] = {}


def _dummy_hash(settings: Settings) -> str:
    """A hash to verify against for unknown usernames, so both cases take about the same time."""
    key = (settings.PASSWORD_HASH_TIME_COST, settings.PASSWORD_HASH_MEMORY_KIB)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hash_password("not-a-real-password", settings)
    return _dummy_hashes[key]


def login(session: Session, settings: Settings, username: str, password: str, client: str) -> str:
    """Return an access token, or raise 401 (bad credentials), 403 (deactivated), 429 (too many failures)."""
    username = username.strip().lower()
    rules = ratelimit.login_rules(settings, username, client)
    ratelimit.reserve(session, rules)  # counted as a failure until the password is right
    user = None
    if "\x00" not in username:  # PostgreSQL refuses NUL in text; no username contains one
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, _dummy_hash(settings), settings)
        ok = False
    else:
        ok = verify_password(password, user.hashed_password, settings)
    if not ok or user is None:
        raise Unauthorized("Incorrect username or password.", headers={"WWW-Authenticate": "Bearer"})
    ratelimit.release(session, rules)
    if not user.is_active:
        raise Forbidden("This account has been deactivated. Ask an administrator to reactivate it.")
    return create_access_token(user.id, user.token_version, settings)


def is_revoked(session: Session, claims: TokenClaims) -> bool:
    return session.get(RevokedToken, claims.jti) is not None


def logout(session: Session, claims: TokenClaims) -> None:
    """Revoke this token (other sessions of the user stay); expired revocations are forgotten."""
    session.exec(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))  # type: ignore[arg-type]
    session.add(RevokedToken(jti=claims.jti, expires_at=claims.expires_at))
    try:
        session.commit()
    except IntegrityError:  # logged out twice at once
        session.rollback()
