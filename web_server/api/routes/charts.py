"""Reading emotions: an attempt's timeline and charts, the charts list, a test's report (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from web_server.api.deps import CurrentUser, QueryId, SessionDep, SettingsDep, StaffUser
from web_server.models.emotion import SampleRead
from web_server.services import charts
from web_server.services.attempts import get_attempt_for

router = APIRouter(tags=["charts"])


@router.get("/attempts/{attempt_id}/emotions")
def read_emotions(
    attempt_id: int,
    user: CurrentUser,
    session: SessionDep,
    modality: Literal["face", "voice"] | None = None,
) -> list[SampleRead]:
    """The attempt's timeline, oldest first (pending/unanalysed samples included, emotion null)."""
    attempt = get_attempt_for(session, user, attempt_id)
    return charts.list_samples(session, attempt, modality)  # type: ignore[return-value]  (validated)


@router.get("/attempts/{attempt_id}/charts")
def read_charts(
    attempt_id: int, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """`{bar, pie, per_question}` per modality (`face`, `voice`), the `fused` timeline, `presence` of faces
    and `missing` (pending/unanalysed) counts. Students: own attempts; teachers and admins: all."""
    attempt = get_attempt_for(session, user, attempt_id)
    return charts.attempt_charts(session, settings, attempt)


@router.get("/charts")
def list_charts(
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    test_id: QueryId = None,
    student_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Attempts with their charts, newest first, one page (`limit`, `offset`); the `X-Total-Count` header
    gives the number of rows over all pages. Students: their own; teachers and admins: all, filterable."""
    response.headers["X-Total-Count"] = str(charts.count_charts(session, user, test_id, student_id))
    return charts.list_charts(session, user, test_id, student_id, limit, offset)


@router.get("/tests/{test_id}/report", response_model=None)
def test_report(
    request: Request,
    test_id: int,
    user: StaffUser,
    session: SessionDep,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | StreamingResponse:
    """Per-question emotion distribution across all attempts (teachers and admins). `?format=csv` streams
    every sample (one row per sample) as a download."""
    test = charts.get_test(session, test_id)
    if format == "csv":
        return StreamingResponse(
            charts.report_csv(request.app.state.engine, test.id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="test-{test.id}-emotions.csv"'},
        )
    return charts.test_report(session, test)
