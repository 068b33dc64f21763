"""The audit log: who viewed or exported which student's emotion data; admins see all, students their own."""

from __future__ import annotations

import pytest

from tests.support.api import API
from tests.web.trust_support import add_samples, dead_ai_settings, new_test, start
from web_server.core.config import Settings


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="individual")


def test_views_of_a_students_emotions_by_others_are_logged(client, people):
    test = new_test(client, people.teacher)
    mine = start(client, people.student, test, {"camera": True})
    theirs = start(client, people.student2, test, {"camera": True})
    add_samples(client.app.state.engine, mine, ["happy"])
    add_samples(client.app.state.engine, theirs, ["sad"])

    # the student's own views are not logged
    assert client.get(f"{API}/attempts/{mine['id']}/charts", headers=people.student).status_code == 200
    assert client.get(f"{API}/attempts/{mine['id']}/emotions", headers=people.student).status_code == 200
    assert client.get(f"{API}/users/me/audit", headers=people.student).json() == []

    assert client.get(f"{API}/attempts/{mine['id']}/charts", headers=people.teacher).status_code == 200
    assert client.get(f"{API}/attempts/{mine['id']}/emotions", headers=people.admin).status_code == 200
    assert client.get(f"{API}/attempts/{theirs['id']}/charts", headers=people.teacher2).status_code == 200
    csv = client.get(f"{API}/tests/{test['id']}/report", headers=people.teacher, params={"format": "csv"})
    assert csv.status_code == 200
    # a class-level report is no view of one student
    assert client.get(f"{API}/tests/{test['id']}/report", headers=people.teacher).status_code == 200

    r = client.get(f"{API}/users/me/audit", headers=people.student)
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    entries = r.json()  # newest first
    assert [(e["actor_username"], e["action"], e["detail"]) for e in entries] == [
        ("teacher", "report_csv", f"CSV export of test {test['id']}"),
        ("admin", "emotions", f"emotions of attempt {mine['id']}"),
        ("teacher", "charts", f"charts of attempt {mine['id']}"),
    ]
    assert {e["student_id"] for e in entries} == {people.ids["student"]}
    assert entries[2]["attempt_id"] == mine["id"] and entries[2]["test_id"] == test["id"]
    assert entries[2]["actor_role"] == "teacher" and entries[2]["at"]

    everything = client.get(f"{API}/audit", headers=people.admin)
    assert everything.status_code == 200 and everything.headers["X-Total-Count"] == "5"
    assert {e["student_username"] for e in everything.json()} == {"student", "student2"}
    only = client.get(
        f"{API}/audit", headers=people.admin, params={"student_id": people.ids["student2"]}
    ).json()
    assert [(e["actor_username"], e["action"]) for e in only] == [
        ("teacher", "report_csv"),
        ("teacher2", "charts"),
    ]
    by_actor = client.get(f"{API}/audit", headers=people.admin, params={"actor_id": people.ids["teacher2"]})
    assert len(by_actor.json()) == 1
    page = client.get(f"{API}/audit", headers=people.admin, params={"limit": 2, "offset": 4}).json()
    assert len(page) == 1

    for who in (people.teacher, people.student):
        assert client.get(f"{API}/audit", headers=who).status_code == 403
    assert client.get(f"{API}/audit").status_code == 401
    assert client.get(f"{API}/users/me/audit", headers=people.teacher).json() == []
    assert client.get(f"{API}/audit", headers=people.admin, params={"limit": 0}).status_code == 422


def test_refused_views_are_not_logged(database_url, tmp_path, client, people):
    from fastapi.testclient import TestClient

    from web_server.main import create_app

    test = new_test(client, people.teacher, emotion_analysis="aggregate")
    attempt = start(client, people.student, test, {"camera": True})
    assert client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher).status_code == 403
    assert client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.student2).status_code == 404
    assert client.get(f"{API}/audit", headers=people.admin).json() == []
    with TestClient(create_app(dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="self"))) as app:
        assert app.get(f"{API}/attempts/{attempt['id']}/emotions", headers=people.admin).status_code == 403
    assert client.get(f"{API}/audit", headers=people.admin).json() == []
