"""Request dependencies: settings, DB session, current user, role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from web_server.core.config import Settings
from web_server.core.security import decode_access_token
from web_server.models.base import MAX_ID, is_valid_id
from web_server.models.user import Role, User
from web_server.services.auth import is_revoked
from web_server.services.errors import Forbidden, NotFound, Unauthorized

API_PREFIX = "/api/v1"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=f"{API_PREFIX}/auth/login", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def check_path_ids(request: Request) -> None:
    """Every `..._id` in the path that no row can have (outside 1 .. 2**31-1) is a 404 at once, as for any
    id that does not exist, instead of a database error. Mounted on the whole API."""
    for name, raw in request.path_params.items():
        if not name.endswith("_id"):
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue  # not a number: the route's own validation answers 422
        if not is_valid_id(value):
            raise NotFound(f"{name.removesuffix('_id').capitalize()} {raw} not found.")


QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional id filter in a query string (out-of-range numbers are a 422)."""

SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The user of the bearer token; 401 when missing, invalid, expired, logged out, revoked (the password
    changed or the account was deactivated since the token was issued), or the account is deactivated."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if not token:
        raise Unauthorized("Not authenticated: log in first.", headers=challenge)
    claims = decode_access_token(token, settings)
    user = session.get(User, claims.user_id) if claims is not None and is_valid_id(claims.user_id) else None
    if user is None or is_revoked(session, claims):
        raise Unauthorized("Your session is invalid or has expired: log in again.", headers=challenge)
    if not user.is_active:
        raise Unauthorized("This account has been deactivated.", headers=challenge)
    if claims.token_version != user.token_version:
        raise Unauthorized(
            "Your session has ended because your password or account was changed: log in again.",
            headers=challenge,
        )
    request.state.token_claims = claims  # for the logout
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only users with one of `roles` through (403 otherwise)."""
    allowed = ", ".join(role.value for role in roles)

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"This action needs the role: {allowed}.")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role(Role.admin))]
StaffUser = Annotated[User, Depends(require_role(Role.teacher, Role.admin))]
StudentUser = Annotated[User, Depends(require_role(Role.student))]
