"""Security findings of issue 13 (both backends, the real app in-process): signing key, odd input, atomic
and owner-only media, database outage, browser protections, tokens and logout, login limits."""

from __future__ import annotations

import secrets
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import select

from ai_server.schemas import VoiceAnswer
from tests.conftest import make_test_settings
from tests.support.api import API, PASSWORD, create_test, login, oral_payload, single_choice_payload
from tests.support.servers import free_port
from web_server.capture import samples as capture_samples
from web_server.core.config import Settings
from web_server.main import create_app
from web_server.models import Answer, CaptureMedia, EmotionSample

OLD_REPOSITORY_KEY = "dev-secret-key-change-me-in-production-0123456789"
CONSENT = {"camera": True, "microphone": True}


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    """The AI server is unreachable (a closed port): uploads are kept and queued, nothing is analysed."""
    return make_test_settings(database_url, tmp_path, AI_SERVER_URL=f"http://127.0.0.1:{free_port()}")


def _oral_attempt(client, people) -> tuple[int, int]:
    test = create_test(client, people.teacher, oral_payload(questions=2))
    response = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student, json=CONSENT)
    assert response.status_code == 201, response.text
    return response.json()["id"], test["questions"][0]["id"]


def _audio(client, people, attempt_id, question_id, started_at="2026-03-01T09:30:00Z", ctype="audio/webm"):
    return client.post(
        f"{API}/attempts/{attempt_id}/audio",
        headers=people.student,
        files={"audio": ("answer.webm", b"\x1aE\xdf\xa3" + b"x" * 2000, ctype)},
        data={"question_id": str(question_id), "started_at": started_at},
    )


def _media_files(settings) -> list:
    return [p for p in settings.MEDIA_DIR.rglob("*") if p.is_file()]


# --- 1. the signing key ------------------------------------------------------------------------------


def test_without_secret_key_a_random_key_is_generated_kept_0600_and_the_old_key_is_refused(
    database_url, tmp_path, people
):
    data = tmp_path / "data"
    settings = make_test_settings(database_url, tmp_path, ENVIRONMENT="development", SECRET_KEY="",
                                  DATA_DIR=data)  # fmt: skip
    with TestClient(create_app(settings)) as first:
        key_file = data / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) >= 48 and key != OLD_REPOSITORY_KEY
        forged = jwt.encode(
            {"sub": str(people.ids["admin"]), "ver": 0, "iat": datetime.now(UTC), "jti": "x" * 32,
             "exp": datetime.now(UTC) + timedelta(hours=1)},
            OLD_REPOSITORY_KEY, "HS256",
        )  # fmt: skip
        refused = first.get(f"{API}/users", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401
        created = first.post(
            f"{API}/users", headers={"Authorization": f"Bearer {forged}"},
            json={"username": "intruder", "password": "password-123", "role": "admin"},
        )  # fmt: skip
        assert created.status_code == 401
        token = login(first, "admin")
    with TestClient(create_app(settings)) as second:  # a later start (or another process) reuses the key
        assert key_file.read_text().strip() == key
        assert second.get(f"{API}/users/me", headers=token).status_code == 200


def test_concurrent_first_starts_share_one_generated_key(tmp_path):
    from web_server.core import secret_key

    path = tmp_path / "data" / "secret_key"
    keys: list[str] = []
    threads = [
        threading.Thread(target=lambda: keys.append(secret_key.load_or_create(path))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1


@pytest.mark.parametrize(
    "key", [OLD_REPOSITORY_KEY, "short-key", "a" * 64, "abcdefghij" * 4, "0123456789abcdef" * 3]
)
def test_published_short_and_predictable_keys_are_refused_at_start(key):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, SECRET_KEY=key)


def test_random_keys_are_accepted():
    for _ in range(20):
        Settings(_env_file=None, SECRET_KEY=secrets.token_urlsafe(48))
        Settings(_env_file=None, SECRET_KEY=secrets.token_hex(16))


# --- 2. odd input: 4xx with a message, never a 500 ------------------------------------------------------


def test_integers_past_the_database_range_are_4xx(client, people):
    attempt_id, _ = _oral_attempt(client, people)
    big = 2**31
    answer = client.put(
        f"{API}/attempts/{attempt_id}/answers/{big}", headers=people.student, json={"selected_option": 0}
    )
    report = client.get(f"{API}/tests/{big}/report", headers=people.teacher)
    charts = client.get(f"{API}/charts", headers=people.teacher, params={"offset": 2**63})
    frame = client.post(
        f"{API}/attempts/{attempt_id}/frames",
        headers=people.student,
        files={"image": ("f.jpg", b"\xff\xd8\xff" + b"x" * 100, "image/jpeg")},
        data={"question_id": str(big), "captured_at": "2026-03-01T09:30:00Z"},
    )
    for response in (answer, report, charts, frame, _audio(client, people, attempt_id, big)):
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["detail"]


def test_dates_that_overflow_are_422_and_leave_nothing_behind(client, people, settings, db_session):
    attempt_id, question_id = _oral_attempt(client, people)
    frame = client.post(
        f"{API}/attempts/{attempt_id}/frames",
        headers=people.student,
        files={"image": ("f.jpg", b"\xff\xd8\xff" + b"x" * 100, "image/jpeg")},
        data={"question_id": str(question_id), "captured_at": "9999-12-31T23:59:59-14:00"},
    )
    audio = _audio(client, people, attempt_id, question_id, started_at="9999-12-31T23:59:59Z")
    for response in (frame, audio):
        assert response.status_code == 422, response.text
        assert "started_at" in response.text or "captured_at" in response.text
    assert _media_files(settings) == []
    assert db_session.exec(select(Answer)).all() == []


@pytest.mark.parametrize("ctype", ["audio/webm; codecs=" + "o" * 120, "audio/webm\x00"])
def test_odd_audio_content_types_are_415_and_leave_nothing_behind(
    client, people, settings, db_session, ctype
):
    attempt_id, question_id = _oral_attempt(client, people)
    response = _audio(client, people, attempt_id, question_id, ctype=ctype)
    assert response.status_code == 415, response.text
    assert "Content-Type" in response.json()["detail"]
    assert _media_files(settings) == []
    assert db_session.exec(select(Answer)).all() == []


def test_a_csv_cell_over_the_field_limit_is_a_clear_422(client, people):
    csv = b"username,password,full_name,role\nbig,password-1," + b"x" * 200_000 + b",student\n"
    response = client.post(
        f"{API}/users/import", headers=people.admin, files={"file": ("u.csv", csv, "text/csv")}
    )
    assert response.status_code == 422, response.text
    assert "CSV" in response.json()["detail"] and "field" in response.json()["detail"]


def test_a_failure_while_storing_a_recording_leaves_no_file_and_no_answer(
    app, people, settings, db_session, monkeypatch
):
    with TestClient(app, raise_server_exceptions=False) as client:
        attempt_id, question_id = _oral_attempt(client, people)

        def broken(*_args, **_kwargs):
            raise RuntimeError("disk or database failure while storing")

        monkeypatch.setattr(capture_samples, "offset_ms", broken)
        assert _audio(client, people, attempt_id, question_id).status_code == 500
    assert _media_files(settings) == []
    assert db_session.exec(select(Answer)).all() == []
    assert db_session.exec(select(CaptureMedia)).all() == []


# --- 8. recordings are owner-only -----------------------------------------------------------------------


def test_recordings_are_stored_owner_only(client, people, settings, db_session):
    attempt_id, question_id = _oral_attempt(client, people)
    stored = _audio(client, people, attempt_id, question_id)
    assert stored.status_code == 202, stored.text  # AI server down: kept and queued
    files = _media_files(settings)
    assert len(files) == 1 and not files[0].name.endswith(".part")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    folder = files[0].parent
    while folder != settings.MEDIA_DIR.parent:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        folder = folder.parent
    media = db_session.exec(select(CaptureMedia)).one()
    assert (settings.MEDIA_DIR / media.path) == files[0]


# --- 6. database outage ---------------------------------------------------------------------------------


def test_a_database_outage_is_a_503_with_a_readable_message(backend, tmp_path, postgres_server_or_none):
    if backend == "sqlite":
        (tmp_path / "gone.db").mkdir()  # a folder where the database file should be: cannot open
        url = f"sqlite:///{tmp_path}/gone.db"
    else:  # a PostgreSQL server that is not running
        url = f"postgresql+psycopg://fasel@127.0.0.1:{free_port()}/fasel?connect_timeout=2"
    app = create_app(make_test_settings(url, tmp_path))
    with TestClient(app) as client:
        for response in (
            client.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD}),
            client.put(f"{API}/attempts/1/answers/1", json={"selected_option": 0},
                       headers={"Authorization": f"Bearer {_token(app, 1)}"}),
        ):  # fmt: skip
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/json"
            assert "database" in response.json()["detail"] and "try again" in response.json()["detail"]


@pytest.fixture
def postgres_server_or_none(backend, request):
    return request.getfixturevalue("postgres_server") if backend == "postgresql" else None


def _token(app, user_id: int) -> str:
    from web_server.core.security import create_access_token

    return create_access_token(user_id, 0, app.state.settings)


# --- 7. browser protections, tokens, logout --------------------------------------------------------------


def test_every_response_carries_browser_protections(client, people):
    for response in (
        client.get("/"),
        client.get("/student/tests/1"),
        client.get(f"{API}/health"),
        client.get(f"{API}/users/me"),  # 401
        client.get(f"{API}/nothing"),  # 404
        client.get("/docs"),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    app_csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in app_csp and "mediastream:" in app_csp and "blob:" in app_csp


def test_tokens_without_expiry_or_id_are_refused(client, people, settings):
    base = {"sub": str(people.ids["student"]), "ver": 0, "iat": datetime.now(UTC)}
    later = datetime.now(UTC) + timedelta(hours=1)
    for claims in (
        {**base, "jti": "a" * 32},
        {**base, "exp": later},
        {**base, "jti": "b" * 32, "exp": later},
    ):
        token = jwt.encode(claims, settings.SECRET_KEY, "HS256")
        status = client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"}).status_code
        assert status == (200 if "exp" in claims and "jti" in claims else 401), claims


def test_logout_revokes_the_token_and_only_that_one(client, people):
    other_device = login(client, "student")
    assert client.post(f"{API}/auth/logout", headers=people.student).status_code == 204
    ended = client.get(f"{API}/users/me", headers=people.student)
    assert ended.status_code == 401 and "log in again" in ended.json()["detail"]
    assert client.post(f"{API}/auth/logout", headers=people.student).status_code == 401
    assert client.get(f"{API}/users/me", headers=other_device).status_code == 200
    assert client.post(f"{API}/auth/logout").status_code == 401


# --- 4. login limits (the multi-process and network parts: test_security_server.py) ----------------------


def _guess(client, username: str, address: str, password: str = "wrong-password"):
    return client.post(
        f"{API}/auth/login",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


def test_password_spraying_from_one_address_is_limited(database_url, tmp_path, people):
    settings = make_test_settings(
        database_url, tmp_path, FORWARDED_ALLOW_IPS=["*"], LOGIN_ADDRESS_MAX_FAILURES=6
    )
    with TestClient(create_app(settings)) as client:
        statuses = [_guess(client, f"user{i}", "203.0.113.7").status_code for i in range(8)]
        assert statuses == [401] * 6 + [429] * 2
        blocked = _guess(client, "student", "203.0.113.7", PASSWORD)
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        assert _guess(client, "student", "203.0.113.8", PASSWORD).status_code == 200  # another address


def test_a_guessed_account_slows_down_but_never_locks_its_owner_out(database_url, tmp_path, people):
    settings = make_test_settings(database_url, tmp_path, FORWARDED_ALLOW_IPS=["*"],
                                  LOGIN_ACCOUNT_MAX_DELAY_SECONDS=2)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        statuses = [_guess(client, "student", f"198.51.100.{i}").status_code for i in range(12)]
        assert statuses[: settings.LOGIN_MAX_FAILURES] == [401] * settings.LOGIN_MAX_FAILURES
        assert 429 in statuses[settings.LOGIN_MAX_FAILURES :]  # rotating addresses does not help
        limited = _guess(client, "student", "192.0.2.1", PASSWORD)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) <= 2
        import time

        time.sleep(2.1)
        assert _guess(client, "student", "192.0.2.1", PASSWORD).status_code == 200  # the owner gets in
        assert _guess(client, "student", "198.51.100.99").status_code == 401  # and the count restarted


def test_the_limits_are_shared_by_several_web_server_processes(database_url, tmp_path, people):
    settings = make_test_settings(database_url, tmp_path)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        for i in range(settings.LOGIN_MAX_FAILURES):
            server = one if i % 2 else two
            wrong = server.post(f"{API}/auth/login", data={"username": "student", "password": "nope-nope"})
            assert wrong.status_code == 401
        for server in (one, two):
            refused = server.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD})
            assert refused.status_code == 429


def test_guesses_of_the_current_password_are_limited(client, people, settings):
    body = {"current_password": "not-it-at-all", "new_password": "a-new-password"}
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = client.post(f"{API}/users/me/password", headers=people.student, json=body)
        assert response.status_code == 403
    body["current_password"] = PASSWORD
    limited = client.post(f"{API}/users/me/password", headers=people.student, json=body)
    assert limited.status_code == 429 and "password changes" in limited.json()["detail"]
    ok = client.post(f"{API}/users/me/password", headers=people.student2, json=body)
    assert ok.status_code == 204  # another user is not affected


def test_single_choice_answers_still_save(client, people):
    """The checks above leave the ordinary flow alone."""
    test = create_test(client, people.teacher, single_choice_payload(questions=2))
    attempt = client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student).json()
    saved = client.put(
        f"{API}/attempts/{attempt['id']}/answers/{test['questions'][0]['id']}",
        headers=people.student,
        json={"selected_option": 1},
    )
    assert saved.status_code == 200, saved.text


def test_an_analysed_recording_is_stored_owner_only_with_its_samples(
    client, app, people, settings, db_session
):
    async def voice(
        *_args, **_kwargs
    ) -> VoiceAnswer:  # what the AI client parses the AI server's answer into
        segment = {
            "start_s": 0.0,
            "end_s": 2.0,
            "emotion": "happy",
            "confidence": 0.9,
            "scores": {"happy": 0.9},
            "uncertain": False,
            "uncertain_reason": None,
        }
        return VoiceAnswer(
            model="ser-test", duration_s=2.0, segments=[segment], overall=segment, elapsed_ms=1.0
        )

    app.state.ai_client.voice = voice
    attempt_id, question_id = _oral_attempt(client, people)
    stored = _audio(client, people, attempt_id, question_id)
    assert stored.status_code == 202 and stored.json()["status"] == "pending", stored.text
    deadline = time.monotonic() + 120  # the analysis worker stores the samples (slow on a loaded machine)
    while db_session.exec(select(CaptureMedia)).one().status == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        db_session.expire_all()
    media = db_session.exec(select(CaptureMedia)).one()
    assert media.status == "analysed"
    assert [s.emotion for s in db_session.exec(select(EmotionSample)).all()] == ["happy"]
    (file,) = _media_files(settings)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    answer = db_session.exec(select(Answer)).one()
    assert settings.MEDIA_DIR / media.path == file and answer.recording_path == media.path
