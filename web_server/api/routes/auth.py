"""POST /auth/login (OAuth2 password form) -> bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import SQLModel

from web_server.api.deps import SessionDep, SettingsDep
from web_server.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/login", responses={401: {}, 403: {}, 429: {}})
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """401 wrong credentials, 403 deactivated account, 429 too many failed attempts."""
    client = request.client.host if request.client else "unknown"
    token = auth.login(
        session, settings, request.app.state.login_limiter, form.username, form.password, client
    )
    return Token(access_token=token)
