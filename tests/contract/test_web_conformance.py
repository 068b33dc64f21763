"""The web server keeps its OpenAPI contract: schemathesis sends generated requests to every operation, as
a student, as a teacher and as an admin, and checks that no answer is a server error and that each one's
status, content type and body are the ones the schema documents (`not_a_server_error`,
`status_code_conformance`, `content_type_conformance`, `response_schema_conformance`).

The app runs in-process (ASGI) on a real migrated database holding a class: tests of both kinds, submitted
and open attempts with answers and emotion samples, so that generated ids reach real rows. Every request
carries a freshly minted token of the role, so operations that end a session (logout) or change an account
do not lock the next ones out. The AI server is a dead port: uploads stay queued, as when it is down.
Bounded: a few deterministic examples per operation (see `SCHEMATHESIS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from tests.conftest import make_test_settings
from tests.support.api import create_user_in_db
from tests.support.db import wipe
from web_server.core.config import Settings
from web_server.core.security import create_access_token
from web_server.main import create_app
from web_server.models.attempt import AttemptStart
from web_server.models.emotion import EmotionSample, SampleStatus
from web_server.models.test import QuestionCreate, TestCreate
from web_server.models.user import Role, User
from web_server.openapi import openapi_schema
from web_server.services import attempts, tests

DEAD_AI_SERVER = "http://127.0.0.1:9"  # the discard port: nothing listens
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCHEMATHESIS = SchemathesisConfig.from_dict(
    {
        "generation": {"deterministic": True, "max-examples": 5},
        "phases": {"stateful": {"enabled": False}},
    }
)
SCORES = {
    "angry": 0.05,
    "disgust": 0.05,
    "fear": 0.05,
    "happy": 0.6,
    "neutral": 0.15,
    "sad": 0.05,
    "surprise": 0.05,
}


def _seed(engine, settings: Settings) -> dict[str, int]:
    """A teacher, two students, an admin; a single-choice and an oral test; attempts, one submitted with
    face samples (an uncertain one, a frame with nobody). Returns the ids by name (users, `quiz`, `oral`,
    `attempt`)."""
    with Session(engine) as session:
        ids = {
            name: create_user_in_db(session, settings, name, role, full_name=name.title())
            for name, role in [
                ("admin", Role.admin),
                ("teacher", Role.teacher),
                ("student", Role.student),
                ("student2", Role.student),
            ]
        }
        teacher, student, student2 = (session.get(User, ids[n]) for n in ("teacher", "student", "student2"))
        quiz = tests.create_test(
            session,
            settings,
            teacher,
            TestCreate(
                title="Fractions",
                kind="single_choice",
                published=True,
                questions=[
                    QuestionCreate(prompt=f"Q{i}?", options=["a", "b", "c"], correct_option=i)
                    for i in range(3)
                ],
            ),
        )
        oral = tests.create_test(
            session,
            settings,
            teacher,
            TestCreate(
                title="Story", kind="oral", published=True, questions=[QuestionCreate(prompt="Speak.")]
            ),
        )
        consent = AttemptStart(camera=True, microphone=True)
        done = attempts.start_attempt(session, settings, student, quiz.id, consent).attempt
        for question in quiz.questions:
            attempts.save_answer(session, student, done.id, question.id, question.position % 2)
        for n in range(12):
            question = quiz.questions[n % 3]
            status = SampleStatus.uncertain if n == 5 else SampleStatus.ok
            session.add(
                EmotionSample(
                    attempt_id=done.id,
                    question_id=question.id,
                    modality="face",
                    captured_at=done.started_at + timedelta(seconds=3 * n),
                    offset_ms=3000 * n,
                    emotion=None if status == SampleStatus.uncertain else "happy",
                    confidence=0.6,
                    scores=SCORES,
                    faces=0 if n == 7 else 1,
                    status=status,
                )
            )
        session.commit()
        attempts.submit_attempt(session, student, done.id)
        attempts.start_attempt(session, settings, student2, quiz.id, consent)
        attempts.start_attempt(session, settings, student, oral.id, consent)
        return {**ids, "quiz": quiz.id, "oral": oral.id, "attempt": done.id}


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only (the conftest's `backend` runs on both): PostgreSQL would double the run for the same
    routes and handlers. To run it there too: `backend` parametrized with `tests.support.db.BACKENDS`."""
    return "sqlite"


@pytest.fixture(scope="module")
def web_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app per backend (building and seeding one per operation would take most of the run)."""
    tmp = tmp_path_factory.mktemp("conformance")
    app = create_app(make_test_settings(database_url, tmp, AI_SERVER_URL=DEAD_AI_SERVER))
    app.state.seeded_for = None
    yield app
    asgi.shutdown_lifespans()  # schemathesis started the app's lifespan (analysis workers) on its first call
    app.state.engine.dispose()


@pytest.fixture
def seeded(web_app: FastAPI, request: pytest.FixtureRequest) -> dict[str, int]:
    """The seeded class, fresh for each role: what one role's requests changed does not reach the other's."""
    role = request.node.name.partition("[")[0]
    if web_app.state.seeded_for != role:
        wipe(web_app.state.engine)
        web_app.state.seeded = _seed(web_app.state.engine, web_app.state.settings)
        web_app.state.seeded_for = role
    return web_app.state.seeded


def bearer(app: FastAPI, user_id: int) -> dict[str, str]:
    """A fresh token of the user (their current token_version): logouts and revocations stay per case."""
    with Session(app.state.engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        token = create_access_token(user.id, user.token_version, app.state.settings)
    return {"Authorization": f"Bearer {token}"}


# the schema the frontend's client is generated from (`python -m web_server.openapi`)
schema = schemathesis.openapi.from_dict(openapi_schema(), config=SCHEMATHESIS)
HYPOTHESIS = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)


@schema.parametrize()
@HYPOTHESIS
def test_as_a_student(case, web_app: FastAPI, seeded: dict[str, int]) -> None:
    case.call_and_validate(app=web_app, headers=bearer(web_app, seeded["student"]), checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_as_a_teacher(case, web_app: FastAPI, seeded: dict[str, int]) -> None:
    case.call_and_validate(app=web_app, headers=bearer(web_app, seeded["teacher"]), checks=CHECKS)


SEEDED_READS = [  # (path, role, query): the seeded rows' real figures, which generated ids rarely reach
    ("/api/v1/attempts/{attempt}/charts", "student", {}),
    ("/api/v1/attempts/{attempt}/charts", "teacher", {}),
    ("/api/v1/attempts/{attempt}/emotions", "teacher", {}),
    ("/api/v1/attempts/{attempt}", "student", {}),
    ("/api/v1/charts", "teacher", {}),
    ("/api/v1/tests/{quiz}/report", "teacher", {}),
    ("/api/v1/tests/{quiz}/report", "teacher", {"format": "csv"}),
    ("/api/v1/tests/{quiz}/grid", "teacher", {}),
    ("/api/v1/tests/{quiz}/overview", "teacher", {}),
    ("/api/v1/tests/{quiz}/results.csv", "teacher", {}),
    ("/api/v1/tests", "student", {}),
    ("/api/v1/results", "teacher", {}),
    ("/api/v1/users/me/export", "student", {}),
]


@pytest.mark.parametrize(
    ("template", "role", "query"),
    SEEDED_READS,
    ids=[f"{r} {t} {q or ''}".strip() for t, r, q in SEEDED_READS],
)
def test_the_seeded_class_reads_keep_the_contract(web_app, seeded, template, role, query) -> None:
    """Charts with bars, gaps and a fused timeline, the class report (JSON and CSV), the grid and the
    overview of real rows are 200s with the documented body and content type."""
    operation = schema[template.replace("{attempt}", "{attempt_id}").replace("{quiz}", "{test_id}")]["GET"]
    ids = {"attempt_id": seeded["attempt"], "test_id": seeded["quiz"]}
    case = operation.Case(path_parameters={k: v for k, v in ids.items() if "{" + k + "}" in operation.path},
                          query=query)  # fmt: skip
    response = case.call_and_validate(app=web_app, headers=bearer(web_app, seeded[role]), checks=CHECKS)
    assert response.status_code == 200, response.text
    if template.endswith("/charts") and not template.startswith("/api/v1/charts"):
        charts = response.json()
        assert charts["bar"]["face"] and charts["fused"] and charts["gaps"]["face"] and charts["questions"]


@schema.parametrize()
@HYPOTHESIS
def test_as_an_admin(case, web_app: FastAPI, seeded: dict[str, int]) -> None:
    """The admin's routes (accounts, CSV import, audit log, exports) past their 403s; deleting or demoting
    themself is refused (409), so the admin's token stays good."""
    case.call_and_validate(app=web_app, headers=bearer(web_app, seeded["admin"]), checks=CHECKS)


def test_every_operation_documents_its_answers() -> None:
    """Each success has a body schema (JSON, or the file's media type) unless it is a 204; each error status
    has the one error body; nothing is left as FastAPI's default list-shaped 422."""
    document = openapi_schema()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for status, answer in operation["responses"].items():
                media = answer.get("content", {})
                if status == "204":
                    assert not media, where
                elif status.startswith("2"):
                    assert media and all(m.get("schema") for m in media.values()), (where, status)
                else:
                    assert set(media) == {"application/json"}, (where, status)
                    assert media["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
            assert {"401", "422"} & set(operation["responses"]) or path in UNGUARDED, where


UNGUARDED = {"/api/v1/health", "/api/v1/config"}  # no login, no parameters
