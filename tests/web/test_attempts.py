"""Attempts: start/resume, autosave (idempotent), submit once, scoring, ownership, results."""

import pytest

from tests.support.api import API, create_test, oral_payload, single_choice_payload


@pytest.fixture
def quiz(client, people):
    """A published 3-question test; correct options are 0, 1, 2."""
    return create_test(client, people.teacher, single_choice_payload(questions=3))


def start(client, headers, test_id, consent=None):
    return client.post(f"{API}/tests/{test_id}/attempts", headers=headers, json=consent)


def save(client, headers, attempt_id, question_id, option):
    return client.put(
        f"{API}/attempts/{attempt_id}/answers/{question_id}",
        headers=headers,
        json={"selected_option": option},
    )


def test_starting_twice_resumes_the_open_attempt(client, people, quiz):
    first = start(client, people.student, quiz["id"])
    assert first.status_code == 201
    body = first.json()
    assert body["test_id"] == quiz["id"] and body["student_id"] == people.ids["student"]
    assert body["submitted_at"] is None and body["answers"] == [] and body["started_at"]
    again = start(client, people.student, quiz["id"])
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert start(client, people.student2, quiz["id"]).json()["id"] != body["id"]


def test_consent_is_stored_updated_on_resume_and_shown_to_teachers(client, people, quiz):
    unknown = start(client, people.student2, quiz["id"]).json()  # no body: an older client
    assert unknown["camera"] is None and unknown["microphone"] is None

    attempt = start(client, people.student, quiz["id"], {"camera": False, "microphone": True}).json()
    assert attempt["camera"] is False and attempt["microphone"] is True
    resumed = start(client, people.student, quiz["id"], {"camera": True})
    assert resumed.status_code == 200
    assert resumed.json()["camera"] is True and resumed.json()["microphone"] is True  # mic unchanged
    assert start(client, people.student, quiz["id"]).json()["camera"] is True  # no body: kept
    bad = start(client, people.student, quiz["id"], {"camera": "sometimes"})
    assert bad.status_code == 422

    read = client.get(f"{API}/attempts/{attempt['id']}", headers=people.teacher).json()
    assert (read["camera"], read["microphone"]) == (True, True)
    client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student)
    refused = start(client, people.student, quiz["id"], {"camera": False})
    assert refused.status_code == 409  # a submitted attempt keeps what was recorded
    [result] = client.get(f"{API}/results", headers=people.teacher, params={"test_id": quiz["id"]}).json()
    assert (result["camera"], result["microphone"]) == (True, True)
    rows = client.get(f"{API}/charts", headers=people.teacher, params={"test_id": quiz["id"]}).json()
    consent = {r["attempt_id"]: (r["camera"], r["microphone"]) for r in rows}
    assert consent == {attempt["id"]: (True, True), unknown["id"]: (None, None)}


def test_only_students_take_tests(client, people, quiz):
    for headers in (people.teacher, people.admin):
        assert start(client, headers, quiz["id"]).status_code == 403
    assert start(client, people.student, 999999).status_code == 404


def test_answers_are_saved_changed_and_cleared_idempotently(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    q0, q1 = quiz["questions"][0]["id"], quiz["questions"][1]["id"]

    first = save(client, people.student, attempt["id"], q0, 2)
    assert first.status_code == 200
    assert first.json()["selected_option"] == 2 and first.json()["has_recording"] is False
    repeat = save(client, people.student, attempt["id"], q0, 2)
    assert repeat.json() == first.json()  # same value: nothing changes, not even updated_at
    changed = save(client, people.student, attempt["id"], q0, 0)
    assert (
        changed.json()["selected_option"] == 0 and changed.json()["updated_at"] >= first.json()["updated_at"]
    )
    save(client, people.student, attempt["id"], q1, 1)
    cleared = save(client, people.student, attempt["id"], q1, None)
    assert cleared.status_code == 200 and cleared.json()["selected_option"] is None

    stored = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert {a["question_id"]: a["selected_option"] for a in stored["answers"]} == {q0: 0, q1: None}
    # resuming shows the saved answers
    resumed = start(client, people.student, quiz["id"]).json()
    assert {a["question_id"]: a["selected_option"] for a in resumed["answers"]} == {q0: 0, q1: None}


def test_invalid_answers_are_refused(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    q0 = quiz["questions"][0]["id"]
    out_of_range = save(client, people.student, attempt["id"], q0, 3)
    assert out_of_range.status_code == 422 and "between 0 and 2" in out_of_range.json()["detail"]
    negative = save(client, people.student, attempt["id"], q0, -1)
    assert negative.status_code == 422 and negative.json()["errors"][0]["loc"] == ["body", "selected_option"]
    missing = client.put(f"{API}/attempts/{attempt['id']}/answers/{q0}", headers=people.student, json={})
    assert missing.status_code == 422
    other_test = create_test(client, people.teacher, single_choice_payload("Other"))
    foreign = save(client, people.student, attempt["id"], other_test["questions"][0]["id"], 0)
    assert foreign.status_code == 404
    assert save(client, people.student, attempt["id"], q0, 1).status_code == 200  # still usable


def test_nobody_else_can_see_or_change_a_students_attempt(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    q0 = quiz["questions"][0]["id"]
    assert client.get(f"{API}/attempts/{attempt['id']}", headers=people.student2).status_code == 404
    assert save(client, people.student2, attempt["id"], q0, 0).status_code == 404
    assert client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student2).status_code == 404
    assert save(client, people.teacher, attempt["id"], q0, 0).status_code == 403
    assert client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.teacher).status_code == 403
    assert client.get(f"{API}/attempts/{attempt['id']}", headers=people.teacher).status_code == 200
    assert client.get(f"{API}/attempts/{attempt['id']}").status_code == 401
    assert client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()["answers"] == []


def test_submit_scores_once_and_locks_the_answers(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    q = [question["id"] for question in quiz["questions"]]
    save(client, people.student, attempt["id"], q[0], 0)  # correct
    save(client, people.student, attempt["id"], q[1], 0)  # wrong (1 is correct)
    save(client, people.student, attempt["id"], q[2], 2)  # correct

    submitted = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student)
    assert submitted.status_code == 200
    result = submitted.json()
    assert (result["score"], result["max_score"]) == (2, 3)
    assert result["submitted_at"] is not None

    again = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student)
    assert again.status_code == 200 and again.json() == result

    late = save(client, people.student, attempt["id"], q[1], 1)
    assert late.status_code == 409 and "already been submitted" in late.json()["detail"]
    assert client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json() == result
    restart = start(client, people.student, quiz["id"])
    assert restart.status_code == 409 and "already submitted" in restart.json()["detail"]


def test_unanswered_questions_score_zero(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    result = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student).json()
    assert (result["score"], result["max_score"]) == (0, 3)


def test_oral_tests_take_no_selected_option_and_an_empty_one_scores_zero(client, people):
    oral = create_test(client, people.teacher, oral_payload())
    attempt = start(client, people.student, oral["id"]).json()
    refused = save(client, people.student, attempt["id"], oral["questions"][0]["id"], 0)
    assert refused.status_code == 422 and "oral question" in refused.json()["detail"]
    result = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student).json()
    # nothing recorded: nothing to grade, 0 points (grading: tests/web/test_grading.py)
    assert result["score"] == 0 and result["max_score"] == 2 and result["submitted_at"]
    assert result["awaiting_grading"] is False


def test_results_students_see_their_own_staff_see_all_and_filter(client, people, quiz):
    other = create_test(client, people.teacher2, single_choice_payload("History", questions=2))
    mine = start(client, people.student, quiz["id"]).json()
    save(client, people.student, mine["id"], quiz["questions"][0]["id"], 0)
    client.post(f"{API}/attempts/{mine['id']}/submit", headers=people.student)
    theirs = start(client, people.student2, quiz["id"]).json()
    client.post(f"{API}/attempts/{theirs['id']}/submit", headers=people.student2)
    open_attempt = start(client, people.student2, other["id"]).json()  # not submitted: not a result

    own = client.get(f"{API}/results", headers=people.student).json()
    assert [r["attempt_id"] for r in own] == [mine["id"]]
    assert own[0]["score"] == 1 and own[0]["max_score"] == 3
    assert own[0]["test_title"] == "Fractions" and own[0]["student_username"] == "student"
    # a student cannot widen the filter to other students
    assert (
        client.get(
            f"{API}/results", headers=people.student, params={"student_id": people.ids["student2"]}
        ).json()
        == []
    )

    for headers in (people.teacher, people.teacher2, people.admin):
        everything = client.get(f"{API}/results", headers=headers).json()
        assert {r["attempt_id"] for r in everything} == {mine["id"], theirs["id"]}
    by_student = client.get(
        f"{API}/results", headers=people.teacher, params={"student_id": people.ids["student2"]}
    )
    assert [r["attempt_id"] for r in by_student.json()] == [theirs["id"]]
    by_test = client.get(f"{API}/results", headers=people.teacher, params={"test_id": other["id"]}).json()
    assert by_test == []

    attempts = client.get(f"{API}/attempts", headers=people.student2).json()
    assert {a["id"] for a in attempts} == {theirs["id"], open_attempt["id"]}
    open_only = client.get(f"{API}/attempts", headers=people.teacher, params={"submitted": False}).json()
    assert [a["id"] for a in open_only] == [open_attempt["id"]]
    by_test = client.get(f"{API}/attempts", headers=people.teacher, params={"test_id": quiz["id"]}).json()
    assert {a["id"] for a in by_test} == {mine["id"], theirs["id"]}
    assert client.get(f"{API}/results", params={"test_id": quiz["id"]}).status_code == 401


def test_answer_timestamps_are_timezone_aware_utc(client, people, quiz):
    attempt = start(client, people.student, quiz["id"]).json()
    answer = save(client, people.student, attempt["id"], quiz["questions"][0]["id"], 1).json()
    for value in (attempt["started_at"], answer["updated_at"]):
        assert value.endswith(("+00:00", "Z")), value
