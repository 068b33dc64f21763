"""Lawful-use modes (EMOTION_ANALYSIS off / self / aggregate / individual; a test can lower it): the API and
its exports show emotions only to whom the mode allows."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.support.api import API
from tests.web.trust_support import add_samples, dead_ai_settings, new_test, post_audio, post_frame, start
from web_server.core.config import Settings
from web_server.main import create_app

CONSENT = {"camera": True, "microphone": True}


def app_in(database_url, tmp_path, mode: str, **overrides) -> TestClient:
    return TestClient(
        create_app(dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS=mode, **overrides))
    )


def views(client, who, attempt, test) -> dict[str, int]:
    return {
        "charts": client.get(f"{API}/attempts/{attempt['id']}/charts", headers=who).status_code,
        "emotions": client.get(f"{API}/attempts/{attempt['id']}/emotions", headers=who).status_code,
        "report": client.get(f"{API}/tests/{test['id']}/report", headers=who).status_code,
        "listed": len(client.get(f"{API}/charts", headers=who).json()),
    }


def test_the_default_mode_is_self_and_is_published():
    assert Settings(_env_file=None).EMOTION_ANALYSIS == "self"
    assert Settings(_env_file=None).MIN_GROUP_SIZE == 5


@pytest.mark.parametrize("mode", ["off", "self", "aggregate", "individual"])
def test_each_mode_everywhere(database_url, tmp_path, client, people, mode):
    with app_in(database_url, tmp_path, mode, MIN_GROUP_SIZE=1) as app:
        config = app.get(f"{API}/config").json()
        assert config["emotion_analysis"] == mode and config["min_group_size"] == 1
        assert {"store_raw_frames", "recording_retention_days"} <= set(config)
        test = new_test(app, people.teacher)
        assert test["emotion_analysis"] is None and test["effective_emotion_analysis"] == mode
        attempt = start(app, people.student, test, CONSENT)
        assert attempt["emotion_analysis"] == mode
        frame, audio = post_frame(app, people.student, attempt), post_audio(app, people.student, attempt)
        if mode == "off":
            assert frame.status_code == 403 and "off" in frame.json()["detail"]
            assert audio.status_code == 200 and audio.json()["status"] == "saved"
            assert "off" in audio.json()["message"]
        else:
            assert frame.status_code == 202 and audio.status_code == 202
        add_samples(app.app.state.engine, attempt, ["happy", "happy", "sad"])

        student = views(app, people.student, attempt, test)
        teacher = views(app, people.teacher, attempt, test)
        admin = views(app, people.admin, attempt, test)
        own = 0 if mode == "off" else 200
        expected_student = {
            "charts": own or 403,
            "emotions": own or 403,
            "report": 403,
            "listed": int(own > 0),
        }
        assert student == expected_student
        individual = mode == "individual"
        report = 200 if mode in ("aggregate", "individual") else 403
        expected_staff = {
            "charts": 200 if individual else 403,
            "emotions": 200 if individual else 403,
            "report": report,
            "listed": int(individual),
        }
        assert teacher == expected_staff and admin == expected_staff

        refused = app.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher)
        if not individual:
            assert refused.json()["detail"]  # says why (off, self, aggregate)
        csv_response = app.get(
            f"{API}/tests/{test['id']}/report", headers=people.teacher, params={"format": "csv"}
        )
        assert csv_response.status_code == report
        if report == 200:
            rows = list(csv.DictReader(io.StringIO(csv_response.text)))
            if individual:
                assert {r["student_username"] for r in rows} == {"student"}
            else:  # class-level figures only: no student in it
                assert "student_username" not in csv_response.text.splitlines()[0]
                assert {(r["emotion"], r["count"]) for r in rows if r["modality"] == "face"} >= {
                    ("happy", "2"),
                    ("sad", "1"),
                }
        audit = app.get(f"{API}/audit", headers=people.admin).json()
        assert bool(audit) == individual  # only individual views of a student's emotions exist to audit


def test_aggregate_withholds_figures_of_fewer_than_min_group_size_students(
    database_url, tmp_path, client, people
):
    from sqlmodel import Session

    from tests.support.api import create_user_in_db, login

    with app_in(database_url, tmp_path, "aggregate", MIN_GROUP_SIZE=3) as app:
        settings = app.app.state.settings
        with Session(app.app.state.engine) as session:
            extra = [create_user_in_db(session, settings, f"pupil{i}", "student") for i in range(2)]
        students = [people.student, people.student2, *(login(app, f"pupil{i}") for i in range(len(extra)))]
        test = new_test(app, people.teacher)
        attempts = [start(app, who, test, CONSENT) for who in students]

        def report():
            r = app.get(f"{API}/tests/{test['id']}/report", headers=people.teacher)
            assert r.status_code == 200, r.text
            return r.json()

        for attempt in attempts[:2]:
            add_samples(app.app.state.engine, attempt, ["happy", "sad"])
        body = report()
        assert body["emotion_analysis"] == "aggregate" and body["min_group_size"] == 3
        q1 = body["questions"][0]["face"]
        assert q1 == {"counts": {}, "total": 0, "mean_confidence": None, "students": 2, "suppressed": True}
        assert body["overall"]["face"]["suppressed"] is True and body["overall"]["face"]["counts"] == {}
        rows = list(csv.DictReader(io.StringIO(app.get(
            f"{API}/tests/{test['id']}/report", headers=people.teacher, params={"format": "csv"}
        ).text)))  # fmt: skip
        assert all(r["emotion"] == "" and r["count"] == "" for r in rows)

        add_samples(app.app.state.engine, attempts[2], ["happy"])
        body = report()
        q1 = body["questions"][0]["face"]
        assert q1["suppressed"] is False and q1["students"] == 3
        assert q1["counts"] == {"happy": 3, "sad": 2} and q1["total"] == 5
        assert body["overall"]["face"] == {
            "counts": {"happy": 3, "sad": 2},
            "total": 5,
            "students": 3,
            "suppressed": False,
        }
        assert body["questions"][0]["voice"]["suppressed"] is True  # nobody spoke
        # still no individual view
        assert (
            app.get(f"{API}/attempts/{attempts[0]['id']}/charts", headers=people.teacher).status_code == 403
        )


def test_a_teacher_can_lower_the_mode_per_test_never_raise_it(database_url, tmp_path, client, people):
    with app_in(database_url, tmp_path, "aggregate") as app:
        for higher in ("individual",):
            r = app.post(
                f"{API}/tests", headers=people.teacher, json={**_payload(), "emotion_analysis": higher}
            )
            assert r.status_code == 422 and "never raise" in r.json()["detail"]
        test = new_test(app, people.teacher, emotion_analysis="self")
        assert (test["emotion_analysis"], test["effective_emotion_analysis"]) == ("self", "self")
        r = app.patch(
            f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": "individual"}
        )
        assert r.status_code == 422
        r = app.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": "bogus"})
        assert r.status_code == 422
        # before any attempt it may go back up to the deployment's mode
        r = app.patch(
            f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": "aggregate"}
        )
        assert r.status_code == 200 and r.json()["effective_emotion_analysis"] == "aggregate"
        r = app.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": "self"})
        attempt = start(app, people.student, test, CONSENT)
        assert attempt["emotion_analysis"] == "self"
        # once students started under 'self', it can only go down
        for higher in ("aggregate", None):
            r = app.patch(
                f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": higher}
            )
            assert r.status_code == 422 and "lowered, not raised" in r.json()["detail"], higher
        r = app.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"emotion_analysis": "off"})
        assert r.status_code == 200 and r.json()["effective_emotion_analysis"] == "off"
        assert (
            app.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()["emotion_analysis"]
            == "off"
        )
        assert post_frame(app, people.student, attempt).status_code == 403
        assert app.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.student).status_code == 403


def test_an_attempt_keeps_the_mode_its_student_was_told(database_url, tmp_path, client, people):
    """Raising the deployment's mode later does not show earlier attempts to teachers."""
    with app_in(database_url, tmp_path, "self") as app:
        test = new_test(app, people.teacher)
        attempt = start(app, people.student, test, CONSENT)
        add_samples(app.app.state.engine, attempt, ["happy"])
    with app_in(database_url, tmp_path, "individual") as app:
        assert app.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher).status_code == 403
        assert app.get(f"{API}/charts", headers=people.teacher).json() == []
        assert (
            app.get(f"{API}/attempts/{attempt['id']}", headers=people.teacher).json()["emotion_analysis"]
            == "self"
        )
        rows = app.get(
            f"{API}/tests/{test['id']}/report", headers=people.teacher, params={"format": "csv"}
        ).text
        assert rows.strip().count("\n") == 0  # the header only
        later = start(app, people.student2, test, CONSENT)
        assert later["emotion_analysis"] == "individual"
        assert app.get(f"{API}/attempts/{later['id']}/charts", headers=people.teacher).status_code == 200


def _payload() -> dict:
    from tests.support.api import oral_payload

    return oral_payload(questions=1)
