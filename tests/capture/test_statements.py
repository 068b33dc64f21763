"""The web path of one frame upload stays lean: the SQL statements one upload runs are counted (SQLAlchemy's
`before_cursor_execute`) on both databases, with the analysis workers off so that only the request runs SQL.

Per frame, once the attempt's facts are cached: the user and the token's revocation (authentication), the
queue's depths (one statement), one guarded UPDATE of the attempt (still open, consent and mode allow frames,
the frame rate), the media and placeholder-sample INSERTs. The bound below is what that takes: a check that
creeps back in per frame fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.capture.helpers import assert_queued, at_offset, post_frame, start_attempt
from tests.conftest import make_test_settings
from tests.support.media import one_face
from web_server.core.config import Settings

MAX_STATEMENTS_PER_FRAME = 7  # authentication 2, queue depths 1, guarded UPDATE 1, INSERTs 2, spare 1
MAX_STATEMENTS_FIRST_FRAME = 11  # + the attempt's facts (attempt, its test and questions) and the lag


@pytest.fixture
def settings(database_url: str, tmp_path, dead_ai_url: str) -> Settings:
    return make_test_settings(
        database_url, tmp_path, AI_SERVER_URL=dead_ai_url, ANALYSIS_WORKERS=0, FRAME_MIN_INTERVAL_S=0.001
    )


def test_a_frame_upload_runs_few_statements(app, client, people):
    attempt = start_attempt(client, people)
    q1 = attempt["test"]["questions"][0]["id"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split())[:160])

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        per_frame = []
        for i in range(6):
            statements.clear()
            assert_queued(
                post_frame(client, people.student, attempt["id"], q1, at_offset(attempt, i), one_face())
            )
            per_frame.append(list(statements))
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    first, rest = per_frame[0], per_frame[1:]
    assert len(first) <= MAX_STATEMENTS_FIRST_FRAME, "\n".join(first)
    worst = max(rest, key=len)
    assert len(worst) <= MAX_STATEMENTS_PER_FRAME, "\n".join(worst)
    print(f"statements per frame: first {len(first)}, then {[len(s) for s in rest]}")
