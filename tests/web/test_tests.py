"""Tests (quizzes): who may create, read, edit, publish; validation; hidden correct options."""

import pytest

from tests.support.api import API, create_test, oral_payload, single_choice_payload


def test_teacher_creates_a_single_choice_test_with_ordered_questions(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=3))
    assert test["kind"] == "single_choice" and test["published"] is True
    assert test["created_by_id"] == people.ids["teacher"]
    assert [q["position"] for q in test["questions"]] == [0, 1, 2]
    assert [q["correct_option"] for q in test["questions"]] == [0, 1, 2]
    assert test["created_at"].endswith(("+00:00", "Z"))
    assert client.get(f"{API}/tests/{test['id']}", headers=people.teacher2).json() == test


def test_students_never_receive_correct_options(client, people):
    test = create_test(client, people.teacher, single_choice_payload())
    one = client.get(f"{API}/tests/{test['id']}", headers=people.student)
    assert one.status_code == 200
    assert all(q["correct_option"] is None for q in one.json()["questions"])
    assert all(q["options"] == ["a", "b", "c"] for q in one.json()["questions"])
    listed = client.get(f"{API}/tests", headers=people.student).json()
    assert all(q["correct_option"] is None for t in listed for q in t["questions"])
    attempt = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student).json()
    assert "correct" not in str(client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json())


def test_students_cannot_create_edit_or_delete_tests(client, people):
    test = create_test(client, people.teacher, single_choice_payload())
    assert (
        client.post(f"{API}/tests", headers=people.student, json=single_choice_payload()).status_code == 403
    )
    assert (
        client.patch(f"{API}/tests/{test['id']}", headers=people.student, json={"title": "x"}).status_code
        == 403
    )
    assert client.delete(f"{API}/tests/{test['id']}", headers=people.student).status_code == 403
    assert client.get(f"{API}/tests").status_code == 401


def test_unpublished_tests_are_invisible_to_students(client, people):
    draft = create_test(client, people.teacher, single_choice_payload("Draft", published=False))
    public = create_test(client, people.teacher, single_choice_payload("Public"))
    assert [t["id"] for t in client.get(f"{API}/tests", headers=people.student).json()] == [public["id"]]
    assert client.get(f"{API}/tests/{draft['id']}", headers=people.student).status_code == 404
    assert client.post(f"{API}/tests/{draft['id']}/attempts", headers=people.student).status_code == 404
    staff = client.get(f"{API}/tests", headers=people.teacher2).json()
    assert {t["id"] for t in staff} == {draft["id"], public["id"]}
    drafts = client.get(f"{API}/tests", headers=people.teacher, params={"published": False}).json()
    assert [t["id"] for t in drafts] == [draft["id"]]
    published = client.patch(f"{API}/tests/{draft['id']}", headers=people.teacher, json={"published": True})
    assert published.status_code == 200 and published.json()["published"] is True
    assert client.get(f"{API}/tests/{draft['id']}", headers=people.student).status_code == 200


def test_missing_tests_are_404(client, people):
    for headers in (people.teacher, people.student):
        assert client.get(f"{API}/tests/424242", headers=headers).status_code == 404
    assert client.patch(f"{API}/tests/424242", headers=people.teacher, json={"title": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"prompt": "Q?", "options": ["only one"], "correct_option": 0}, "at least 2 options"),
        ({"prompt": "Q?", "options": ["a", "b"]}, "correct option"),
        ({"prompt": "Q?", "options": ["a", "b"], "correct_option": 2}, "from 0 to 1"),
        ({"prompt": "Q?", "options": ["a", "  "], "correct_option": 0}, "options cannot be empty"),
        ({"prompt": "   ", "options": ["a", "b"], "correct_option": 0}, "prompt is empty"),
    ],
)
def test_invalid_single_choice_questions_are_422(client, people, question, message):
    payload = single_choice_payload(questions=1)
    payload["questions"].append(question)
    response = client.post(f"{API}/tests", headers=people.teacher, json=payload)
    assert response.status_code == 422
    assert "Question 2" in response.json()["detail"] and message in response.json()["detail"]


def test_schema_errors_are_422_with_field_locations(client, people):
    bad_kind = dict(single_choice_payload(), kind="essay")
    response = client.post(f"{API}/tests", headers=people.teacher, json=bad_kind)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "kind"]
    assert response.json()["detail"].startswith("Please check these fields: kind: Input should be")
    no_title = single_choice_payload()
    del no_title["title"]
    response = client.post(f"{API}/tests", headers=people.teacher, json=no_title)
    assert response.json()["errors"][0]["loc"] == ["body", "title"]
    negative = single_choice_payload(questions=1)
    negative["questions"][0]["correct_option"] = -1
    response = client.post(f"{API}/tests", headers=people.teacher, json=negative)
    assert response.json()["errors"][0]["loc"] == ["body", "questions", 0, "correct_option"]
    assert "questions.0.correct_option: " in response.json()["detail"]


def test_oral_tests_have_prompts_only(client, people):
    test = create_test(client, people.teacher, oral_payload())
    assert all(q["options"] is None and q["correct_option"] is None for q in test["questions"])
    payload = oral_payload()
    payload["questions"][0]["options"] = ["a", "b"]
    response = client.post(f"{API}/tests", headers=people.teacher, json=payload)
    assert response.status_code == 422 and "oral question" in response.json()["detail"]


def test_a_test_needs_questions_to_be_published(client, people):
    empty = {"title": "Empty", "kind": "single_choice", "published": True, "questions": []}
    assert client.post(f"{API}/tests", headers=people.teacher, json=empty).status_code == 422
    draft = create_test(client, people.teacher, dict(empty, published=False))
    response = client.patch(f"{API}/tests/{draft['id']}", headers=people.teacher, json={"published": True})
    assert response.status_code == 422 and "at least one question" in response.json()["detail"]


def test_only_the_author_or_an_admin_edits_a_test(client, people):
    test = create_test(client, people.teacher, single_choice_payload())
    other = client.patch(f"{API}/tests/{test['id']}", headers=people.teacher2, json={"title": "Mine now"})
    assert other.status_code == 403
    by_admin = client.patch(f"{API}/tests/{test['id']}", headers=people.admin, json={"title": "Renamed"})
    assert by_admin.status_code == 200 and by_admin.json()["title"] == "Renamed"
    assert client.delete(f"{API}/tests/{test['id']}", headers=people.teacher2).status_code == 403


def test_questions_can_be_replaced_until_a_student_starts(client, people):
    test = create_test(client, people.teacher, single_choice_payload(questions=3))
    new_questions = [{"prompt": "Only?", "options": ["x", "y"], "correct_option": 1}]
    replaced = client.patch(
        f"{API}/tests/{test['id']}", headers=people.teacher, json={"questions": new_questions}
    )
    assert replaced.status_code == 200
    assert [(q["position"], q["prompt"]) for q in replaced.json()["questions"]] == [(0, "Only?")]
    to_oral = client.patch(
        f"{API}/tests/{test['id']}",
        headers=people.teacher,
        json={"kind": "oral", "questions": [{"prompt": "Say something"}]},
    )
    assert to_oral.status_code == 200 and to_oral.json()["kind"] == "oral"
    kind_only = client.patch(
        f"{API}/tests/{test['id']}", headers=people.teacher, json={"kind": "single_choice"}
    )
    assert kind_only.status_code == 422

    assert client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student).status_code == 201
    refused = client.patch(
        f"{API}/tests/{test['id']}", headers=people.teacher, json={"questions": new_questions}
    )
    assert refused.status_code == 409
    assert "already started" in refused.json()["detail"]
    fine = client.patch(
        f"{API}/tests/{test['id']}",
        headers=people.teacher,
        json={"title": "New title", "topic": "t", "published": False},
    )
    assert fine.status_code == 200 and fine.json()["title"] == "New title"
    assert client.delete(f"{API}/tests/{test['id']}", headers=people.teacher).status_code == 409


def test_tests_without_attempts_can_be_deleted(client, people):
    test = create_test(client, people.teacher, single_choice_payload())
    assert client.delete(f"{API}/tests/{test['id']}", headers=people.teacher).status_code == 204
    assert client.get(f"{API}/tests/{test['id']}", headers=people.teacher).status_code == 404


def test_students_see_the_state_of_their_own_attempt(client, people):
    test = create_test(client, people.teacher, single_choice_payload())

    def mine(headers):
        return client.get(f"{API}/tests", headers=headers).json()[0]["my_attempt"]

    assert mine(people.student) is None
    attempt = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student).json()
    assert mine(people.student) == {"id": attempt["id"], "submitted_at": None}
    assert mine(people.student2) is None
    client.post(f"{API}/attempts/{attempt['id']}/submit", headers=people.student)
    state = client.get(f"{API}/tests/{test['id']}", headers=people.student).json()["my_attempt"]
    assert state["id"] == attempt["id"] and state["submitted_at"] is not None
    assert client.get(f"{API}/tests/{test['id']}", headers=people.teacher).json()["my_attempt"] is None
