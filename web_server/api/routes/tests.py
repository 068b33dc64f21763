"""Tests: staff create/edit/publish; students see published ones without correct options."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from web_server.api.deps import CurrentUser, SessionDep, SettingsDep, StaffUser
from web_server.api.responses import errors
from web_server.models.base import SafeStr
from web_server.models.test import TestCreate, TestRead, TestUpdate
from web_server.models.user import Role
from web_server.services import tests

router = APIRouter(prefix="/tests", tags=["tests"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 413, 422))
def create_test(user: StaffUser, body: TestCreate, session: SessionDep, settings: SettingsDep) -> TestRead:
    """`emotion_analysis` (off/self/aggregate/individual, or null for the deployment's mode) can lower the
    deployment's EMOTION_ANALYSIS for this test, never raise it (422)."""
    return tests.to_read(session, settings, user, tests.create_test(session, settings, user, body))


@router.get("", responses=errors(401, 422))
def list_tests(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    published: bool | None = None,
    topic: SafeStr | None = None,
) -> list[TestRead]:
    """Students: published tests with `my_attempt`. Staff: all tests (filter with `published`, `topic`)."""
    found = tests.list_tests(session, user, published, topic)
    attempts = (
        tests.own_attempts_by_test(session, user, [t.id for t in found]) if user.role == Role.student else {}
    )
    return [tests.to_read(session, settings, user, t, attempts) for t in found]


@router.get("/{test_id}", responses=errors(401, 404, 422))
def read_test(user: CurrentUser, test_id: int, session: SessionDep, settings: SettingsDep) -> TestRead:
    return tests.to_read(session, settings, user, tests.get_test_for(session, user, test_id))


@router.patch("/{test_id}", responses=errors(400, 401, 403, 404, 409, 413, 422))
def update_test(
    user: StaffUser, test_id: int, body: TestUpdate, session: SessionDep, settings: SettingsDep
) -> TestRead:
    """Title, topic, published: always. Kind and questions (replace all): only before any attempt (409).
    `emotion_analysis`: lower only (422 above the deployment's mode, or above the mode students started
    under)."""
    return tests.to_read(session, settings, user, tests.update_test(session, settings, user, test_id, body))


@router.delete(
    "/{test_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404, 409, 422)
)
def delete_test(user: StaffUser, test_id: int, session: SessionDep) -> Response:
    """Only tests no student has started (409 otherwise)."""
    tests.delete_test(session, user, test_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
