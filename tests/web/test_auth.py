"""Login, tokens, deactivated accounts and the failed-login rate limit (both backends)."""

from datetime import UTC, datetime, timedelta

import jwt

from tests.support.api import API, PASSWORD, login

WRONG = {"username": "student", "password": "wrong-password"}


def test_login_returns_a_bearer_token_that_identifies_the_user(client, people):
    response = client.post(f"{API}/auth/login", data={"username": "teacher", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": people.ids["teacher"],
        "username": "teacher",
        "full_name": "Teacher",
        "role": "teacher",
        "is_active": True,
    }


def test_username_is_case_insensitive(client, people):
    response = client.post(f"{API}/auth/login", data={"username": " Teacher ", "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_and_unknown_user_give_401_with_a_clear_message(client, people):
    for username, password in [("teacher", "wrong-password"), ("nobody", PASSWORD)]:
        response = client.post(f"{API}/auth/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect username or password.", "errors": []}


def test_missing_form_fields_give_422(client):
    response = client.post(f"{API}/auth/login", data={"username": "teacher"})
    assert response.status_code == 422
    body = response.json()
    assert [e["loc"] for e in body["errors"]] == [["body", "password"]]
    assert body["detail"] == "Please check these fields: password: Field required"


def test_requests_without_or_with_bad_tokens_are_401(client, people, settings):
    assert client.get(f"{API}/users/me").status_code == 401
    bad = client.get(f"{API}/users/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert "log in again" in bad.json()["detail"]
    forged = jwt.encode({"sub": str(people.ids["admin"])}, "another-secret-key-of-enough-length!!", "HS256")
    assert client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    expired = jwt.encode(
        {"sub": str(people.ids["admin"]), "exp": datetime.now(UTC) - timedelta(minutes=1)},
        settings.SECRET_KEY,
        "HS256",
    )
    assert client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_deactivated_user_cannot_log_in_and_their_token_stops_working(client, people):
    student_id = people.ids["student"]
    assert client.get(f"{API}/users/me", headers=people.student).status_code == 200
    response = client.patch(f"{API}/users/{student_id}", headers=people.admin, json={"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False

    refused = client.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD})
    assert refused.status_code == 403
    assert "deactivated" in refused.json()["detail"]
    old_token = client.get(f"{API}/users/me", headers=people.student)
    assert old_token.status_code == 401
    assert "deactivated" in old_token.json()["detail"]

    client.patch(f"{API}/users/{student_id}", headers=people.admin, json={"is_active": True})
    login(client, "student")


def test_repeated_failed_logins_are_rate_limited(client, people, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = client.post(f"{API}/auth/login", data=WRONG)
        assert response.status_code == 401
    blocked = client.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed login attempts" in blocked.json()["detail"]
    assert 0 < int(blocked.headers["Retry-After"]) <= settings.LOGIN_WINDOW_SECONDS
    # other accounts from the same address are not affected
    login(client, "student2")


def test_a_successful_login_resets_the_failure_count(client, people, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        client.post(f"{API}/auth/login", data=WRONG)
    login(client, "student")
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        response = client.post(f"{API}/auth/login", data=WRONG)
        assert response.status_code == 401
    login(client, "student")


def test_users_can_change_their_own_password(client, people):
    wrong = client.post(
        f"{API}/users/me/password",
        headers=people.student,
        json={"current_password": "nope-nope", "new_password": "a-new-password"},
    )
    assert wrong.status_code == 403
    short = client.post(
        f"{API}/users/me/password",
        headers=people.student,
        json={"current_password": PASSWORD, "new_password": "x"},
    )
    assert short.status_code == 422
    ok = client.post(
        f"{API}/users/me/password",
        headers=people.student,
        json={"current_password": PASSWORD, "new_password": "a-new-password"},
    )
    assert ok.status_code == 204
    login(client, "student", "a-new-password")


def _me(client, headers) -> int:
    return client.get(f"{API}/users/me", headers=headers).status_code


def test_changing_the_own_password_revokes_earlier_tokens(client, people):
    other_device = login(client, "student")
    change = client.post(
        f"{API}/users/me/password",
        headers=people.student,
        json={"current_password": PASSWORD, "new_password": "a-new-password"},
    )
    assert change.status_code == 204
    for old in (people.student, other_device):
        revoked = client.get(f"{API}/users/me", headers=old)
        assert revoked.status_code == 401 and "log in again" in revoked.json()["detail"]
    assert (
        client.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD}).status_code
        == 401
    )
    fresh = login(client, "student", "a-new-password")
    assert _me(client, fresh) == 200
    assert _me(client, people.student2) == 200  # other users keep their sessions


def test_an_admin_password_reset_or_deactivation_revokes_tokens(client, people):
    student2 = people.ids["student2"]
    renamed = client.patch(f"{API}/users/{student2}", headers=people.admin, json={"full_name": "Sam Two"})
    assert renamed.status_code == 200 and _me(client, people.student2) == 200  # other edits keep tokens
    reset = client.patch(f"{API}/users/{student2}", headers=people.admin, json={"password": "reset-pass-123"})
    assert reset.status_code == 200
    assert _me(client, people.student2) == 401
    assert _me(client, people.admin) == 200
    after_reset = login(client, "student2", "reset-pass-123")
    assert _me(client, after_reset) == 200

    teacher = people.ids["teacher"]
    assert client.patch(f"{API}/users/{teacher}", headers=people.admin, json={"is_active": False}).is_success
    assert _me(client, people.teacher) == 401
    assert client.patch(f"{API}/users/{teacher}", headers=people.admin, json={"is_active": True}).is_success
    assert _me(client, people.teacher) == 401  # reactivation does not bring the old session back
    assert _me(client, login(client, "teacher")) == 200


def test_a_token_without_a_version_is_refused(client, people, settings):
    import jwt

    legacy = jwt.encode({"sub": str(people.ids["student"])}, settings.SECRET_KEY, algorithm="HS256")
    assert _me(client, {"Authorization": f"Bearer {legacy}"}) == 401
