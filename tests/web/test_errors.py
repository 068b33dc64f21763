"""Every 4xx and 5xx of the web server has the one error body: `{"detail": "<a sentence>", "errors": [...]}`,
`errors` listing the fields of a 422 (without the submitted values) and empty otherwise."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import API
from web_server.models.errors import ErrorBody
from web_server.services import users


def _error(response, status: int) -> ErrorBody:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"detail", "errors"}
    return ErrorBody.model_validate(response.json())


def test_a_422_names_each_field_in_a_sentence_without_echoing_values(client, people):
    secret = "Pw-7#zq"
    response = client.post(
        f"{API}/users", headers=people.admin, json={"username": "x", "password": secret, "role": "wizard"}
    )
    body = _error(response, 422)
    assert [e.loc for e in body.errors] == [["body", "username"], ["body", "password"], ["body", "role"]]
    assert body.detail.startswith("Please check these fields: username: ")
    assert "password: String should have at least 8 characters" in body.detail
    assert secret not in response.text


def test_framework_and_middleware_errors_have_the_error_body(client, people):
    assert _error(client.get(f"{API}/no-such-route"), 404).errors == []
    assert _error(client.delete(f"{API}/health"), 405).detail == "Method Not Allowed"
    assert "log in first" in _error(client.get(f"{API}/users/me"), 401).detail
    assert "role" in _error(client.get(f"{API}/audit", headers=people.student), 403).detail
    too_large = client.post(
        f"{API}/tests",
        headers={**people.teacher, "Content-Type": "application/json"},
        content=b" " * (2 << 20),
    )
    assert "too large" in _error(too_large, 413).detail
    unreadable = client.post(
        f"{API}/tests", headers={**people.teacher, "Content-Type": "application/json"}, content=b'{"\xff"'
    )
    assert "cannot be read" in _error(unreadable, 400).detail
    not_json = client.post(
        f"{API}/tests", headers={**people.teacher, "Content-Type": "application/json"}, content=b'{"title": '
    )
    body = _error(not_json, 422)
    assert body.detail == "Please check these fields: the body is not valid JSON"
    assert body.errors[0].type == "json_invalid"


def test_a_bug_is_a_500_with_the_error_body_and_no_internals(app, people, monkeypatch):
    def broken(*_, **__):
        raise RuntimeError("internal detail: secret path /srv/x")

    monkeypatch.setattr(users, "list_users", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"{API}/users", headers=people.admin)
    body = _error(response, 500)
    assert "went wrong on the server" in body.detail and "secret" not in response.text


def test_a_page_offset_past_any_row_is_a_422_not_a_database_overflow(client, people):
    """Found by the conformance test: an offset of 2**63 overflowed the database driver (500)."""
    for path, who in (
        ("users/me/audit", people.student),
        ("audit", people.admin),
        ("charts", people.teacher),
    ):
        response = client.get(f"{API}/{path}", headers=who, params={"offset": 2**63})
        assert _error(response, 422).errors[0].loc == ["query", "offset"], path
