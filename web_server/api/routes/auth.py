"""POST /auth/login (OAuth2 password form) -> bearer token; POST /auth/logout revokes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import SQLModel

from web_server.api.deps import CurrentUser, SessionDep, SettingsDep
from web_server.api.responses import errors
from web_server.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


@router.post(
    "/login",
    responses=errors(
        400, 401, 403, 413, 422, 429,
        descriptions={401: "Wrong username or password.", 403: "The account has been deactivated."},
    ),
)  # fmt: skip
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """401 wrong credentials, 403 deactivated account, 429 too many failed attempts (`Retry-After`)."""
    client = request.client.host if request.client else "unknown"
    return Token(access_token=auth.login(session, settings, form.username, form.password, client))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401))
def logout(request: Request, _: CurrentUser, session: SessionDep) -> Response:
    """End this session: the token is refused from now on (the user's other sessions go on)."""
    auth.logout(session, request.state.token_claims)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
