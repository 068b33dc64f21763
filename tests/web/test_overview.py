"""GET /tests/{id}/overview: every active student with not_started / in_progress / submitted, times, score,
consent and capture figures (only where the mode is `individual`); staff only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.api import API, create_test, create_user_in_db, single_choice_payload
from tests.web.trust_support import add_samples, dead_ai_settings, start
from web_server.main import create_app


def overview(client, who, test):
    r = client.get(f"{API}/tests/{test['id']}/overview", headers=who)
    assert r.status_code == 200, r.text
    return {row["username"]: row for row in r.json()["students"]}


def test_overview_lists_every_active_student_with_status_score_and_capture(client, people, settings):
    with Session(client.app.state.engine) as session:
        create_user_in_db(session, settings, "idle", "student", full_name="Ida Idle")
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    done = start(client, people.student, test, {"camera": True, "microphone": False})
    busy = start(client, people.student2, test, None)
    add_samples(client.app.state.engine, done, ["happy", "sad"])
    q1 = done["questions"][0]
    client.put(
        f"{API}/attempts/{done['id']}/answers/{q1}", headers=people.student, json={"selected_option": 0}
    )
    client.post(f"{API}/attempts/{done['id']}/submit", headers=people.student)

    rows = overview(client, people.teacher, test)
    assert set(rows) == {"student", "student2", "idle"}  # students only, no staff
    s, s2, idle = rows["student"], rows["student2"], rows["idle"]
    assert s["status"] == "submitted" and s["score"] == 1 and s["max_score"] == 2
    assert s["duration_s"] is not None and s["duration_s"] >= 0 and s["attempt_id"] == done["id"]
    assert s["consent"] == {"camera": True, "microphone": False}
    assert s["face"] == {"frames": 2, "with_face": 2, "pending": 0}
    assert s["voice"] == {"seconds": 0.0, "pending": 0}
    assert s2["status"] == "in_progress" and s2["submitted_at"] is None and s2["attempt_id"] == busy["id"]
    assert s2["duration_s"] is None and s2["consent"] == {"camera": None, "microphone": None}
    assert idle["status"] == "not_started" and idle["full_name"] == "Ida Idle"
    assert idle["attempt_id"] is None and idle["face"] is None and idle["consent"] is None
    assert overview(client, people.admin, test) == rows

    assert client.get(f"{API}/tests/{test['id']}/overview", headers=people.student).status_code == 403
    assert client.get(f"{API}/tests/2147483647/overview", headers=people.teacher).status_code == 404


def test_overview_hides_capture_figures_below_individual(database_url, tmp_path, people):
    settings = dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="aggregate")
    with TestClient(create_app(settings)) as client:
        test = create_test(client, people.teacher, single_choice_payload(questions=1))
        attempt = start(client, people.student, test, {"camera": True})
        add_samples(client.app.state.engine, attempt, ["happy"])
        row = overview(client, people.teacher, test)["student"]
        assert row["status"] == "in_progress" and row["emotion_analysis"] == "aggregate"
        assert row["face"] is None and row["voice"] is None
        assert row["consent"] == {"camera": True, "microphone": None}
