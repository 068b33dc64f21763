"""Students after submitting: their answers with `correct` only when the teacher shows it (`show_correct`,
changeable at any time), oral grades and comments; staff always see which answers were right."""

from __future__ import annotations

from tests.support.api import API, create_test, single_choice_payload
from tests.web.trust_support import start


def answer(client, student, attempt, question, option):
    r = client.put(
        f"{API}/attempts/{attempt['id']}/answers/{question}",
        headers=student,
        json={"selected_option": option},
    )
    assert r.status_code == 200, r.text


def correctness(client, who, attempt):
    body = client.get(f"{API}/attempts/{attempt['id']}", headers=who).json()
    return {a["question_id"]: a["correct"] for a in body["answers"]}


def test_students_see_which_answers_were_right_only_when_the_test_shows_it(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    assert test["show_correct"] is False
    attempt = start(client, people.student, test, None)
    q1, q2 = attempt["questions"]
    answer(client, people.student, attempt, q1, 0)  # right (correct option i % 3)
    answer(client, people.student, attempt, q2, 0)  # wrong
    assert correctness(client, people.teacher, attempt) == {q1: True, q2: False}  # staff: always
    assert correctness(client, people.student, attempt) == {q1: None, q2: None}

    r = client.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"show_correct": True})
    assert r.status_code == 200 and r.json()["show_correct"] is True  # allowed after attempts started
    assert correctness(client, people.student, attempt) == {q1: None, q2: None}  # not before submitting
    client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student)
    assert correctness(client, people.student, attempt) == {q1: True, q2: False}
    # the questions' correct options themselves stay hidden from students
    read = client.get(f"{API}/tests/{test['id']}", headers=people.student).json()
    assert all(q["correct_option"] is None for q in read["questions"]) and read["show_correct"] is True

    client.patch(f"{API}/tests/{test['id']}", headers=people.teacher, json={"show_correct": False})
    assert correctness(client, people.student, attempt) == {q1: None, q2: None}
    assert client.get(f"{API}/attempts/{attempt['id']}", headers=people.student2).status_code == 404


def test_show_correct_can_be_set_when_creating(client, people):
    test = create_test(client, people.teacher, {**single_choice_payload(), "show_correct": True})
    assert test["show_correct"] is True
    r = client.patch(f"{API}/tests/{test['id']}", headers=people.teacher2, json={"show_correct": False})
    assert r.status_code == 403  # only its author (or an admin)
