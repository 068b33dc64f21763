"""Users: the caller's own account; administration (admin); student list for teachers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from web_server.api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep, StaffUser
from web_server.api.responses import errors
from web_server.models.base import SafeStr
from web_server.models.user import ImportReport, PasswordChange, Role, UserCreate, UserRead, UserUpdate
from web_server.services import ratelimit, users
from web_server.services.errors import Forbidden, NotFound, PayloadTooLarge

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", responses=errors(401))
def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(
        400, 401, 403, 413, 422, 429, descriptions={403: "The current password is not correct."}
    ),
)
def change_my_password(
    user: CurrentUser, body: PasswordChange, session: SessionDep, settings: SettingsDep
) -> Response:
    """403 wrong current password; 429 after LOGIN_MAX_FAILURES wrong ones within LOGIN_WINDOW_SECONDS."""
    rule = ratelimit.password_change_rule(settings, user.id)
    ratelimit.reserve(session, [rule], "password changes")
    users.change_own_password(session, settings, user, body.current_password, body.new_password)
    ratelimit.release(session, [rule])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", responses=errors(401, 403, 422))
def list_users(
    user: StaffUser,
    session: SessionDep,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[SafeStr | None, Query(max_length=100, description="part of username or full name")] = None,
) -> list[UserRead]:
    """Admins list everyone; teachers only students (`role` must be empty or `student`)."""
    if user.role == Role.teacher:
        if role not in (None, Role.student):
            raise Forbidden("Teachers can only list students.")
        role = Role.student
    return [
        UserRead.model_validate(u, from_attributes=True) for u in users.list_users(session, role, active, q)
    ]


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 409, 413, 422))
def create_user(_: AdminUser, body: UserCreate, session: SessionDep, settings: SettingsDep) -> UserRead:
    return UserRead.model_validate(users.create_user(session, settings, body), from_attributes=True)


@router.post("/import", responses=errors(400, 401, 403, 409, 413, 422))
def import_users(
    _: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV with header username,password,full_name,role")],
) -> ImportReport:
    """Create users from CSV; the report lists every row that failed (row = line number, header = 1)."""
    content = file.file.read(settings.MAX_CSV_BYTES + 1)
    if len(content) > settings.MAX_CSV_BYTES:
        raise PayloadTooLarge(f"The CSV file is larger than {settings.MAX_CSV_BYTES} bytes.")
    return users.import_csv(session, settings, content)


@router.get("/{user_id}", responses=errors(401, 403, 404, 422))
def read_user(user: StaffUser, user_id: int, session: SessionDep) -> UserRead:
    found = users.get_user(session, user_id)
    if user.role == Role.teacher and found.role != Role.student:
        raise NotFound(f"User {user_id} not found.")
    return UserRead.model_validate(found, from_attributes=True)


@router.patch("/{user_id}", responses=errors(400, 401, 403, 404, 409, 413, 422))
def update_user(
    admin: AdminUser, user_id: int, body: UserUpdate, session: SessionDep, settings: SettingsDep
) -> UserRead:
    """Edit name, role, active flag; `password` resets the password."""
    return UserRead.model_validate(
        users.update_user(session, settings, admin, user_id, body), from_attributes=True
    )


@router.delete(
    "/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404, 409, 422)
)
def delete_user(admin: AdminUser, user_id: int, session: SessionDep, settings: SettingsDep) -> Response:
    """Delete the user and all their attempts, answers, recordings and emotion data."""
    users.delete_user(session, settings, admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
