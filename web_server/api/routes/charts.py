"""Reading emotions: an attempt's timeline and charts, the charts list, a test's report (JSON or CSV).

Every route follows the lawful-use mode (services/modes.py): students see their own emotions unless analysis
is off; teachers and admins see one student's emotions only in `individual` mode (each view is written to
the audit log) and a test's class report from `aggregate` on.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from web_server.api.deps import CurrentUser, QueryId, SessionDep, SettingsDep, StaffUser
from web_server.api.responses import TOTAL_COUNT, content, errors
from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.base import MAX_ID
from web_server.models.charts import AttemptCharts, ChartListItem, TestReport
from web_server.models.emotion import SampleRead
from web_server.models.test import Test
from web_server.models.user import User
from web_server.services import attempts as attempts_service
from web_server.services import audit, charts, modes
from web_server.services.attempts import get_attempt_for

router = APIRouter(tags=["charts"])


def _viewable_attempt(
    session: Session, settings: Settings, user: User, attempt_id: int, what: str
) -> Attempt:
    """The attempt if the mode lets `user` see its emotions (403 with the reason otherwise); a view by
    someone other than its student is audited."""
    attempt = get_attempt_for(session, user, attempt_id)
    modes.check_can_view_attempt(settings, user, session.get(Test, attempt.test_id), attempt)
    if attempt.student_id != user.id:
        audit.record(
            session,
            user,
            [attempt.student_id],
            what,
            f"{what} of attempt {attempt.id}",
            attempt.id,
            attempt.test_id,
        )
    return attempt


@router.get("/attempts/{attempt_id}/emotions", responses=errors(401, 403, 404, 422))
def read_emotions(
    attempt_id: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    modality: Literal["face", "voice"] | None = None,
) -> list[SampleRead]:
    """The attempt's timeline, oldest first (pending/unanalysed samples included, emotion null).
    Its student (unless analysis is off); teachers and admins only in `individual` mode (audited)."""
    attempt = _viewable_attempt(session, settings, user, attempt_id, "emotions")
    return charts.list_samples(session, attempt, modality)  # type: ignore[return-value]  (validated)


@router.get("/attempts/{attempt_id}/charts", responses=errors(401, 403, 404, 422))
def read_charts(
    attempt_id: int, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> AttemptCharts:
    """`{bar, pie, per_question}` per modality (`face`, `voice`), the `fused` timeline, `presence` of faces,
    `missing` (pending/unanalysed/uncertain) counts, `gaps` (buckets with uncertain samples, nobody or several
    people in view) and `questions` (when the student was on each, and whether a single-choice answer was
    right where that may be shown). Its student (unless analysis is off); teachers and admins
    only in `individual` mode (audited)."""
    attempt = _viewable_attempt(session, settings, user, attempt_id, "charts")
    reveal = attempts_service.answer_key(session, user, attempt) != {}
    return charts.attempt_charts(session, settings, attempt, reveal)  # type: ignore[return-value]


@router.get("/charts", responses={**TOTAL_COUNT, **errors(401, 422)})
def list_charts(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    test_id: QueryId = None,
    student_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[ChartListItem]:
    """Attempts with their charts, newest first, one page (`limit`, `offset`); the `X-Total-Count` header
    gives the number of rows over all pages. Students: their own (not those with analysis off); teachers and
    admins: attempts in `individual` mode, filterable."""
    response.headers["X-Total-Count"] = str(charts.count_charts(session, settings, user, test_id, student_id))
    return charts.list_charts(session, settings, user, test_id, student_id, limit, offset)  # type: ignore[return-value]


@router.get(
    "/tests/{test_id}/report",
    response_model=TestReport,
    responses={
        200: content(["text/csv"], "JSON, or with `?format=csv` CSV (UTF-8).", binary=False),
        **errors(401, 403, 404, 422),
    },
)
def test_report(
    request: Request,
    test_id: int,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
    format: Literal["json", "csv"] = "json",
) -> TestReport | StreamingResponse:
    """Per-question emotion distribution across all attempts (teachers and admins), from mode `aggregate`
    on (403 below). `?format=csv`: in `individual` mode every sample (one row per sample, audited for each
    student in it); in `aggregate` mode the class-level figures only."""
    test = charts.get_test(session, test_id)
    mode = charts.check_report_allowed(settings, test)
    headers = {"Content-Disposition": f'attachment; filename="test-{test.id}-emotions.csv"'}
    if format == "csv" and mode == modes.INDIVIDUAL:
        students = charts.csv_students(session, test)
        audit.record(session, user, students, "report_csv", f"CSV export of test {test.id}", test_id=test.id)
        return StreamingResponse(
            charts.report_csv(request.app.state.engine, test.id),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    report = charts.test_report(session, settings, test)
    if format == "csv":
        return StreamingResponse(
            charts.report_aggregate_csv(report), media_type="text/csv; charset=utf-8", headers=headers
        )
    return report  # type: ignore[return-value]  (validated by the response model)
