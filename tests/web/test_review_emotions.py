"""Emotions next to the quiz: the report's `by_correctness` for single-choice questions (withheld under
MIN_GROUP_SIZE in `aggregate` mode) and the students x questions grid (`individual` only, audited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.api import API, create_test, single_choice_payload
from tests.web.trust_support import add_samples, dead_ai_settings, start
from web_server.main import create_app
from web_server.models.emotion import EmotionSample


def answer_and_submit(client, who, attempt, option):
    q1 = attempt["questions"][0]
    client.put(f"{API}/attempts/{attempt['id']}/answers/{q1}", headers=who, json={"selected_option": option})
    client.post(f"{API}/attempts/{attempt['id']}/submit", headers=who)


def add_uncertain(engine, attempt):
    with Session(engine) as session:
        session.add(
            EmotionSample(
                attempt_id=attempt["id"],
                question_id=attempt["questions"][0],
                modality="face",
                captured_at=_t0(attempt),
                offset_ms=30_000,
                emotion="fear",
                confidence=0.2,
                scores={"fear": 0.2},
                faces=1,
                status="uncertain",
            )
        )
        session.commit()


def _t0(attempt):
    return datetime.fromisoformat(attempt["started_at"].replace("Z", "+00:00")) + timedelta(seconds=30)


def test_report_splits_emotions_by_correct_and_incorrect_answers(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    right = start(client, people.student, test, {"camera": True})
    wrong = start(client, people.student2, test, {"camera": True})
    add_samples(client.app.state.engine, right, ["happy", "happy"])
    add_samples(client.app.state.engine, wrong, ["sad"])
    answer_and_submit(client, people.student, right, 0)  # correct option of question 1 is 0
    answer_and_submit(client, people.student2, wrong, 2)

    body = client.get(f"{API}/tests/{test['id']}/report", headers=people.teacher).json()
    split = body["questions"][0]["by_correctness"]
    assert split["correct"]["face"] == {
        "counts": {"happy": 2},
        "total": 2,
        "students": 1,
        "suppressed": False,
    }
    assert split["incorrect"]["face"] == {
        "counts": {"sad": 1},
        "total": 1,
        "students": 1,
        "suppressed": False,
    }
    assert split["correct"]["voice"]["total"] == 0
    assert body["questions"][1]["by_correctness"]["correct"]["face"]["total"] == 0


def test_by_correctness_is_withheld_under_the_group_size_in_aggregate_mode(database_url, tmp_path, people):
    settings = dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="aggregate", MIN_GROUP_SIZE=2)
    with TestClient(create_app(settings)) as app:
        test = create_test(app, people.teacher, single_choice_payload(questions=1))
        attempts = [start(app, who, test, {"camera": True}) for who in (people.student, people.student2)]
        for attempt in attempts:
            add_samples(app.app.state.engine, attempt, ["happy"])
        answer_and_submit(app, people.student, attempts[0], 0)
        answer_and_submit(app, people.student2, attempts[1], 0)
        split = app.get(f"{API}/tests/{test['id']}/report", headers=people.teacher).json()["questions"][0]
        assert split["by_correctness"]["correct"]["face"]["counts"] == {"happy": 2}  # 2 students: shown
        assert split["by_correctness"]["incorrect"]["face"]["suppressed"] is False  # nobody: nothing withheld

        third = create_test(app, people.teacher, single_choice_payload("Other", questions=1))
        a = start(app, people.student, third, {"camera": True})
        b = start(app, people.student2, third, {"camera": True})
        add_samples(app.app.state.engine, a, ["happy"])
        add_samples(app.app.state.engine, b, ["sad"])
        answer_and_submit(app, people.student, a, 0)
        answer_and_submit(app, people.student2, b, 1)
        split = app.get(f"{API}/tests/{third['id']}/report", headers=people.teacher).json()["questions"][0]
        for which in ("correct", "incorrect"):  # one student each: withheld
            assert split["by_correctness"][which]["face"] == {
                "counts": {},
                "total": 0,
                "students": 1,
                "suppressed": True,
            }
        assert app.get(f"{API}/tests/{third['id']}/grid", headers=people.teacher).status_code == 403


def test_grid_gives_dominant_emotion_and_n_per_student_and_question(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    mine = start(client, people.student, test, {"camera": True})
    start(client, people.student2, test, {"camera": False})
    add_samples(client.app.state.engine, mine, ["sad", "happy", "happy"])
    add_uncertain(client.app.state.engine, mine)
    answer_and_submit(client, people.student, mine, 0)

    r = client.get(f"{API}/tests/{test['id']}/grid", headers=people.teacher)
    assert r.status_code == 200, r.text
    grid = r.json()
    assert [q["number"] for q in grid["questions"]] == [1, 2]
    rows = {row["username"]: row for row in grid["students"]}
    assert set(rows) == {"student", "student2"}
    cell = rows["student"]["cells"][0]
    assert cell["face"] == {"dominant": "happy", "share": 0.667, "n": 3, "uncertain": 1}
    assert cell["correct"] is True and cell["voice"]["n"] == 0 and cell["voice"]["dominant"] is None
    assert rows["student2"]["cells"][0]["face"]["n"] == 0 and rows["student2"]["cells"][0]["correct"] is None
    audit = client.get(f"{API}/audit", headers=people.admin).json()
    assert {(e["action"], e["student_id"]) for e in audit} == {
        ("grid", people.ids["student"]),
        ("grid", people.ids["student2"]),
    }
    assert client.get(f"{API}/tests/{test['id']}/grid", headers=people.student).status_code == 403
