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


def add_face(engine, attempt, question, second, emotion, status="ok", faces=1):
    with Session(engine) as session:
        session.add(
            EmotionSample(
                attempt_id=attempt["id"],
                question_id=question,
                modality="face",
                captured_at=_t0(attempt) - timedelta(seconds=30) + timedelta(seconds=second),
                offset_ms=second * 1000,
                emotion=emotion,
                confidence=None if emotion is None else 0.6,
                scores=None if emotion is None else {emotion: 0.6},
                faces=faces,
                status=status,
            )
        )
        session.commit()


def test_attempt_charts_show_uncertain_nobody_several_and_question_spans(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    attempt = start(client, people.student, test, {"camera": True})
    q1, q2 = attempt["questions"]
    engine = client.app.state.engine
    add_face(engine, attempt, q1, 1, "happy")
    add_face(engine, attempt, q1, 3, "fear", status="uncertain")
    add_face(engine, attempt, q1, 5, "sad", faces=2)
    add_face(engine, attempt, q2, 12, None, faces=0)
    add_face(engine, attempt, q2, 18, "happy")
    answer_and_submit(client, people.student, attempt, 0)  # question 1 right

    charts = client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher).json()
    assert [(b["start_s"], b["total"]) for b in charts["bar"]["face"]] == [(0, 2), (10, 1)]
    assert charts["gaps"]["face"] == [
        {"start_s": 0, "end_s": 10, "uncertain": 1, "nobody": 0, "several": 1},
        {"start_s": 10, "end_s": 20, "uncertain": 0, "nobody": 1, "several": 0},
    ]
    assert charts["gaps"]["voice"] == []
    assert charts["questions"] == [
        {"question_id": q1, "number": 1, "start_s": 1.0, "end_s": 5.0, "correct": True},
        {"question_id": q2, "number": 2, "start_s": 12.0, "end_s": 18.0, "correct": False},
    ]
    # the student sees right and wrong on the timeline only when the test shows it
    own = client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.student).json()
    assert [q["correct"] for q in own["questions"]] == [None, None]
    client.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"show_correct": True})
    own = client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.student).json()
    assert [q["correct"] for q in own["questions"]] == [True, False]
