"""Privacy: the deployment's analysis settings, data exports, the audit log of views of emotion data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from sqlmodel import SQLModel

from web_server.api.deps import AdminUser, CurrentUser, QueryId, SessionDep, SettingsDep
from web_server.api.responses import TOTAL_COUNT, content, errors
from web_server.models.audit import AuditRead
from web_server.models.base import MAX_ID
from web_server.models.test import EmotionMode
from web_server.models.user import User
from web_server.services import audit, export, users

router = APIRouter(tags=["privacy"])


class PublicConfig(SQLModel):
    """What the browser needs to tell students the truth: the deployment's emotion analysis mode, the
    group size under which class figures are withheld, what is kept and for how long."""

    emotion_analysis: EmotionMode
    min_group_size: int
    store_raw_frames: bool
    recording_retention_days: int
    frame_min_interval_s: float


@router.get("/config")
def read_config(settings: SettingsDep) -> PublicConfig:
    """The deployment's analysis settings (no login needed: the consent page explains them)."""
    return PublicConfig(
        emotion_analysis=EmotionMode(settings.EMOTION_ANALYSIS),
        min_group_size=settings.MIN_GROUP_SIZE,
        store_raw_frames=settings.STORE_RAW_FRAMES,
        recording_retention_days=settings.RECORDING_RETENTION_DAYS,
        frame_min_interval_s=settings.FRAME_MIN_INTERVAL_S,
    )


def _stream(file: IO[bytes], chunk: int = 1 << 16) -> Iterator[bytes]:
    try:
        while data := file.read(chunk):
            yield data
    finally:
        file.close()


def _zip_response(session, settings, user: User) -> StreamingResponse:
    zipped = export.build_zip(session, settings, user)
    return StreamingResponse(
        _stream(zipped),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="fasel-export-{user.username}.zip"'},
    )


@router.get(
    "/users/me/export",
    response_class=StreamingResponse,
    responses={200: content(["application/zip"], "The zip."), **errors(401)},
)
def export_me(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> StreamingResponse:
    """Everything FASEL holds about you, as a zip: `fasel-export.json` (profile, attempts, answers, scores,
    emotion samples, consent history, who viewed your emotion data) and `media/` (your recordings and any
    kept frames)."""
    return _zip_response(session, settings, user)


@router.get("/users/me/audit", responses={**TOTAL_COUNT, **errors(401, 422)})
def my_audit(
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AuditRead]:
    """Who viewed or exported your emotion data, newest first (`X-Total-Count`: all entries)."""
    response.headers["X-Total-Count"] = str(audit.count_entries(session, student_id=user.id))
    return audit.list_entries(session, student_id=user.id, limit=limit, offset=offset)


@router.get(
    "/users/{user_id}/export",
    response_class=StreamingResponse,
    responses={200: content(["application/zip"], "The zip."), **errors(401, 403, 404, 422)},
)
def export_user(
    admin: AdminUser, user_id: int, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """Admins: any user's data export (the same zip as `/users/me/export`); written to the audit log."""
    target = users.get_user(session, user_id)
    audit.record(session, admin, [target.id], "export", f"data export of user {target.username}")
    return _zip_response(session, settings, target)


@router.get("/audit", responses={**TOTAL_COUNT, **errors(401, 403, 422)})
def list_audit(
    _: AdminUser,
    session: SessionDep,
    response: Response,
    student_id: QueryId = None,
    actor_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AuditRead]:
    """Admins: the audit log of views and exports of students' emotion data, newest first, filterable by
    student and by actor (`X-Total-Count`: entries over all pages)."""
    response.headers["X-Total-Count"] = str(audit.count_entries(session, student_id, actor_id))
    return audit.list_entries(session, student_id, actor_id, limit, offset)
