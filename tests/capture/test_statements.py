"""The web path of one frame upload stays lean, and its cache never weakens consent and mode: the SQL
statements one upload runs are counted (SQLAlchemy's `before_cursor_execute`) on both databases, with the
analysis workers off so that only the request runs SQL.

Per frame, once the attempt's facts are cached: the user and the token's revocation (authentication), the
queue's depths (one statement), one guarded UPDATE of the attempt (still open, consent and mode allow frames,
the frame rate), the media and placeholder-sample INSERTs. The bound below is what that takes: a check that
creeps back in per frame fails here.
"""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

from tests.capture.helpers import assert_queued, at_offset, post_frame, start_attempt
from tests.conftest import make_test_settings
from tests.support.api import API
from tests.support.media import one_face
from web_server.capture import checks
from web_server.core.config import Settings
from web_server.main import create_app

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


def test_cached_facts_never_outlive_a_change_made_by_another_process(app, client, people, settings):
    """Two web processes on one database (two apps: two engines, two caches). Process A has the attempt's
    facts cached; consent withdrawn, the test's mode lowered or the attempt submitted through process B
    hold for A's very next frame."""
    frame = one_face()
    with TestClient(create_app(settings)) as other:
        cases = [
            ("PUT", "/consent", {"camera": False}, 403, "camera"),
            ("PATCH", "", {"emotion_analysis": "off"}, 403, "off"),
            ("POST", "/submit", None, 409, "submitted"),
        ]
        for method, suffix, body, status, word in cases:
            attempt = start_attempt(client, people)
            aid, q1 = attempt["id"], attempt["test"]["questions"][0]["id"]
            assert_queued(post_frame(client, people.student, aid, q1, at_offset(attempt, 1), frame))  # cached
            if method == "PATCH":  # the teacher lowers the test's mode
                url, who = f"{API}/tests/{attempt['test']['id']}", people.teacher
            else:
                url, who = f"{API}/attempts/{aid}{suffix}", people.student
            r = other.request(method, url, headers=who, json=body)
            assert r.status_code == 200, r.text
            r = post_frame(client, people.student, aid, q1, at_offset(attempt, 2), frame)
            assert r.status_code == status and word in r.json()["detail"], r.text


def test_stale_cached_facts_are_read_again(app, client, people):
    """Facts in the cache that the database contradicts (an attempt id reused after a deletion) fail the
    guarded UPDATE: they are read again and the frame is judged by the attempt as it is."""
    attempt = start_attempt(client, people)
    aid, q1 = attempt["id"], attempt["test"]["questions"][0]["id"]
    with Session(app.state.engine) as session:
        real = checks.attempt_facts(session, aid)
        stale = dataclasses.replace(real, test_id=real.test_id + 1000, question_ids=frozenset({q1, 999_999}))
        checks._cache_for(session).put(stale)
    assert_queued(post_frame(client, people.student, aid, q1, at_offset(attempt, 1), one_face()))
    with Session(app.state.engine) as session:
        assert checks.attempt_facts(session, aid) == real
    r = post_frame(client, people.student, aid, 999_999, at_offset(attempt, 2), one_face())
    assert r.status_code == 404, r.text  # the stale question list no longer counts
