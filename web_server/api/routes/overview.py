"""A test's completion overview and its results CSV, for teachers and admins."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from web_server.api.deps import SessionDep, SettingsDep, StaffUser
from web_server.api.responses import content, errors
from web_server.models.overview import EmotionGrid, TestOverview
from web_server.services import audit, overview
from web_server.services import emotion_grid as emotion_grid_service
from web_server.services import results_csv as results_csv_service
from web_server.services.charts import get_test

router = APIRouter(tags=["overview"])


@router.get("/tests/{test_id}/overview", responses=errors(401, 403, 404, 422))
def test_overview(user: StaffUser, test_id: int, session: SessionDep, settings: SettingsDep) -> TestOverview:
    """Every active student (and any student with an attempt): `status` (not_started, in_progress,
    submitted), times, score (null while awaiting grading), consent, and captured frames / seconds of speech
    (only where the mode is `individual`)."""
    return overview.test_overview(session, settings, get_test(session, test_id))


@router.get(
    "/tests/{test_id}/results.csv",
    response_class=StreamingResponse,
    responses={
        200: content(["text/csv"], "The results, UTF-8 with BOM.", binary=False),
        **errors(401, 403, 404, 422),
    },
)
def results_csv(
    user: StaffUser, test_id: int, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """One row per student and question for a spreadsheet (UTF-8 with BOM, formula cells neutralised):
    1-based question number and text, username, full name, score, answer, correct or not, oral points and
    comment; in `individual` mode also one column per emotion score and modality (audited per student)."""
    test = get_test(session, test_id)
    body, students = results_csv_service.results_csv(session, settings, test)
    if students:
        audit.record(
            session, user, students, "results_csv", f"results CSV of test {test.id}", test_id=test.id
        )
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="test-{test.id}-results.csv"'},
    )


@router.get("/tests/{test_id}/grid", responses=errors(401, 403, 404, 422))
def emotion_grid(user: StaffUser, test_id: int, session: SessionDep, settings: SettingsDep) -> EmotionGrid:
    """Students x questions: per cell the dominant face and voice emotion with its n (and uncertain samples),
    and whether a single-choice answer was right. Mode `individual` only (403 otherwise); audited per
    student."""
    test = get_test(session, test_id)
    grid = emotion_grid_service.emotion_grid(session, settings, test)
    students = [row["student_id"] for row in grid["students"]]
    audit.record(session, user, students, "grid", f"emotion grid of test {test.id}", test_id=test.id)
    return grid  # type: ignore[return-value]  (validated by the response model)
