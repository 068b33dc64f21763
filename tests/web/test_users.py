"""User administration: admin-only rules, validation, teachers' student list, deletion cascade."""

import pytest
from sqlmodel import func, select

from tests.support.api import API, PASSWORD, create_test, create_user, login, single_choice_payload
from web_server.models import Answer, Attempt, User


def test_admin_creates_and_lists_users(client, people):
    created = create_user(client, people.admin, "Alice.Smith", role="student")
    assert created["username"] == "alice.smith"  # stored lower-case
    assert created["role"] == "student" and created["is_active"] is True
    assert "password" not in created and "hashed_password" not in created
    listed = client.get(f"{API}/users", headers=people.admin).json()
    assert {u["username"] for u in listed} >= {"admin", "teacher", "student", "alice.smith"}
    only_teachers = client.get(f"{API}/users", headers=people.admin, params={"role": "teacher"}).json()
    assert {u["username"] for u in only_teachers} == {"teacher", "teacher2"}
    found = client.get(f"{API}/users", headers=people.admin, params={"q": "ALICE"}).json()
    assert [u["username"] for u in found] == ["alice.smith"]
    login(client, "alice.smith")


def test_duplicate_username_is_409(client, people):
    response = client.post(
        f"{API}/users",
        headers=people.admin,
        json={"username": "STUDENT", "password": PASSWORD, "role": "student"},
    )
    assert response.status_code == 409
    assert "already taken" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ok_name", "password": "short", "role": "student"}, "password"),
        ({"username": "a", "password": PASSWORD, "role": "student"}, "username"),
        ({"username": "has space", "password": PASSWORD, "role": "student"}, "username"),
        ({"username": "ok_name", "password": PASSWORD, "role": "wizard"}, "role"),
        ({"password": PASSWORD, "role": "student"}, "username"),
    ],
)
def test_invalid_user_data_gives_422_with_the_field(client, people, body, field):
    response = client.post(f"{API}/users", headers=people.admin, json=body)
    assert response.status_code == 422
    body = response.json()
    errors = body["errors"]
    assert any(e["loc"] == ["body", field] and e["msg"] for e in errors), errors
    assert body["detail"].startswith("Please check these fields: ") and f"{field}: " in body["detail"]
    assert all(set(e) == {"loc", "msg", "type"} for e in errors)  # submitted values (passwords) not echoed
    assert PASSWORD not in response.text


@pytest.mark.parametrize("who", ["teacher", "student"])
def test_only_admins_manage_users(client, people, who):
    headers = getattr(people, who)
    target = people.ids["student2"]
    body = {"username": "newbie", "password": PASSWORD, "role": "student"}
    assert client.post(f"{API}/users", headers=headers, json=body).status_code == 403
    assert (
        client.patch(f"{API}/users/{target}", headers=headers, json={"is_active": False}).status_code == 403
    )
    assert client.delete(f"{API}/users/{target}", headers=headers).status_code == 403
    csv = ("u.csv", b"username,password,full_name,role\nx1,password1,X,student\n", "text/csv")
    assert client.post(f"{API}/users/import", headers=headers, files={"file": csv}).status_code == 403


def test_students_cannot_list_users_and_teachers_see_only_students(client, people):
    assert client.get(f"{API}/users", headers=people.student).status_code == 403
    listed = client.get(f"{API}/users", headers=people.teacher).json()
    assert {u["username"] for u in listed} == {"student", "student2"}
    students = client.get(f"{API}/users", headers=people.teacher, params={"role": "student"}).json()
    assert {u["username"] for u in students} == {"student", "student2"}
    assert client.get(f"{API}/users", headers=people.teacher, params={"role": "admin"}).status_code == 403
    assert client.get(f"{API}/users/{people.ids['student']}", headers=people.teacher).status_code == 200
    assert client.get(f"{API}/users/{people.ids['admin']}", headers=people.teacher).status_code == 404


def test_admin_edits_role_name_and_resets_password(client, people):
    target = people.ids["student2"]
    response = client.patch(
        f"{API}/users/{target}",
        headers=people.admin,
        json={"full_name": "  Second Student ", "role": "teacher", "password": "brand-new-pass"},
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Second Student" and response.json()["role"] == "teacher"
    assert (
        client.post(f"{API}/auth/login", data={"username": "student2", "password": PASSWORD}).status_code
        == 401
    )
    headers = login(client, "student2", "brand-new-pass")
    assert client.get(f"{API}/users/me", headers=headers).json()["role"] == "teacher"
    bad = client.patch(f"{API}/users/{target}", headers=people.admin, json={"password": "short"})
    assert bad.status_code == 422
    assert (
        client.patch(f"{API}/users/999999", headers=people.admin, json={"full_name": "x"}).status_code == 404
    )


def test_admin_cannot_lock_themselves_out(client, people):
    me = people.ids["admin"]
    for body in ({"is_active": False}, {"role": "teacher"}):
        response = client.patch(f"{API}/users/{me}", headers=people.admin, json=body)
        assert response.status_code == 409
    assert client.delete(f"{API}/users/{me}", headers=people.admin).status_code == 409
    assert client.get(f"{API}/users/me", headers=people.admin).json()["role"] == "admin"


def test_deleting_a_student_deletes_their_attempts_and_answers(client, people, db_session):
    test = create_test(client, people.teacher, single_choice_payload())
    attempt = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student).json()
    question = test["questions"][0]["id"]
    saved = client.put(
        f"{API}/attempts/{attempt['id']}/answers/{question}",
        headers=people.student,
        json={"selected_option": 1},
    )
    assert saved.status_code == 200
    other = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student2).json()

    assert client.delete(f"{API}/users/{people.ids['student']}", headers=people.admin).status_code == 204
    assert client.get(f"{API}/users/{people.ids['student']}", headers=people.admin).status_code == 404
    assert db_session.get(User, people.ids["student"]) is None
    assert db_session.exec(select(func.count()).select_from(Answer)).one() == 0
    remaining = db_session.exec(select(Attempt.id)).all()
    assert remaining == [other["id"]]  # other students keep theirs
    assert client.delete(f"{API}/users/{people.ids['student']}", headers=people.admin).status_code == 404


def test_deleting_a_teacher_keeps_their_tests(client, people):
    test = create_test(client, people.teacher, single_choice_payload())
    assert client.delete(f"{API}/users/{people.ids['teacher']}", headers=people.admin).status_code == 204
    kept = client.get(f"{API}/tests/{test['id']}", headers=people.teacher2)
    assert kept.status_code == 200 and kept.json()["created_by_id"] is None
