"""GET /tests/{id}/results.csv: for a spreadsheet (BOM, neutralised formulas), one row per student and
question with 1-based numbers, text, names, score, correctness, oral grades, and one column per emotion
score only in `individual` mode (audited); attempts without a camera appear with their answers."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.support.api import API, create_test, single_choice_payload
from tests.web.trust_support import add_samples, dead_ai_settings, start
from web_server.main import create_app
from web_server.services.spreadsheet import cell


def read_csv(client, who, test):
    r = client.get(f"{API}/tests/{test['id']}/results.csv", headers=who)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def quiz(client, teacher):
    payload = single_choice_payload("Géographie", questions=2)
    payload["questions"][0]["prompt"] = "=1+1 Où est Paris ?"
    payload["questions"][0]["options"] = ["-Berlin", "@Paris", "+Rome"]
    return create_test(client, teacher, payload)


def test_results_csv_rows_per_student_and_question_with_emotion_columns(client, people):
    test = quiz(client, people.teacher)
    seen = start(client, people.student, test, {"camera": True})
    blind = start(client, people.student2, test, {"camera": False})  # no camera: answers only
    add_samples(client.app.state.engine, seen, ["happy", "happy", "sad"])
    q1 = seen["questions"][0]
    for who, attempt in ((people.student, seen), (people.student2, blind)):
        client.put(f"{API}/attempts/{attempt['id']}/answers/{q1}", headers=who, json={"selected_option": 0})
        client.post(f"{API}/attempts/{attempt['id']}/submit", headers=who)

    rows = read_csv(client, people.teacher, test)
    assert len(rows) == 4
    first = rows[0]
    assert first["question_number"] == "1" and first["question_text"] == "'=1+1 Où est Paris ?"
    assert first["username"] == "student" and first["full_name"] == "Student"
    assert first["answer"] == "'-Berlin" and first["correct"] == "yes"
    assert first["score"] == "1" and first["max_score"] == "2" and first["status"] == "submitted"
    assert first["face_samples"] == "3" and first["face_dominant"] == "happy"
    assert float(first["face_happy"]) == round(0.8 * 2 / 3, 4) and float(first["face_sad"]) == round(
        0.8 / 3, 4
    )
    assert "scores" not in first and not any("{" in v for r in rows for v in r.values())
    assert rows[1]["question_number"] == "2" and rows[1]["correct"] == "no" and rows[1]["face_samples"] == "0"
    no_camera = [r for r in rows if r["username"] == "student2"]
    assert [r["question_number"] for r in no_camera] == ["1", "2"] and no_camera[0]["correct"] == "yes"
    audit = client.get(f"{API}/audit", headers=people.admin).json()
    assert {(e["action"], e["student_id"]) for e in audit} >= {("results_csv", people.ids["student"])}
    assert client.get(f"{API}/tests/{test['id']}/results.csv", headers=people.student).status_code == 403


def test_results_csv_has_no_emotions_below_individual(database_url, tmp_path, people):
    with TestClient(
        create_app(dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="aggregate"))
    ) as app:
        test = quiz(app, people.teacher)
        attempt = start(app, people.student, test, {"camera": True})
        add_samples(app.app.state.engine, attempt, ["happy"])
        rows = read_csv(app, people.teacher, test)
        assert len(rows) == 2 and not any(k.startswith(("face_", "voice_")) for k in rows[0])
        assert rows[0]["status"] == "in_progress" and rows[0]["correct"] == ""
        assert app.get(f"{API}/audit", headers=people.admin).json() == []


def test_formula_cells_are_neutralised_and_numbers_kept():
    assert [cell(v) for v in ("=SUM(A1)", "+1", "-x", "@a", "\tx", "plain", -3, 2.5, None, True)] == [
        "'=SUM(A1)", "'+1", "'-x", "'@a", "'\tx", "plain", "-3", "2.5", "", "yes",
    ]  # fmt: skip


def test_validation_errors_are_said_plainly():
    import pytest
    from pydantic import ValidationError

    from web_server.models.user import UserCreate
    from web_server.services.messages import field_errors

    with pytest.raises(ValidationError) as caught:
        UserCreate(username="x", password="short", role="wizard")
    text = field_errors(caught.value)
    assert "String should" not in text and "Input should" not in text
    assert "Password must be at least 8 characters long." in text
    assert "Role must be student, teacher or admin." in text
