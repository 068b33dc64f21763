"""Security findings of issue 13 over real HTTP: the web server in a uvicorn subprocess (started as
scripts/start.sh starts it) on both databases: bodies refused from their headers, login limits under
concurrency and with forged X-Forwarded-For."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlmodel import Session

from tests.conftest import TEST_SECRET_KEY
from tests.support.api import API, PASSWORD, create_test, login, oral_payload
from tests.support.db import wipe
from tests.support.servers import free_port, spawn_uvicorn, stop_process, wait_ready
from web_server.core.config import Settings
from web_server.core.db import make_engine
from web_server.models.user import Role

MAX_FAILURES = 5


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("server")
    env = {
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "MEDIA_DIR": str(folder / "media"),
        "FRONTEND_DIST": str(folder / "no-frontend"),
        "AI_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "LOGIN_MAX_FAILURES": str(MAX_FAILURES),
        "CORS_ORIGINS": "",
    }
    port = free_port()
    log = folder / "web.log"
    proc = spawn_uvicorn("web_server.main:app", port, env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(proc, f"{url}/api/v1/health", 60, "web server", log)
    yield url
    stop_process(proc)


@pytest.fixture
def http(server, database_url) -> Iterator[httpx.Client]:
    engine = make_engine(database_url)
    wipe(engine)
    settings = Settings(_env_file=None, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=database_url,
                        PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=1024)  # fmt: skip
    from tests.support.api import create_user_in_db

    with Session(engine) as session:
        for name, role in [("teacher", Role.teacher), ("student", Role.student), ("admin", Role.admin)]:
            create_user_in_db(session, settings, name, role)
    engine.dispose()
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def _raw_request(server: str, head: str, body_part: bytes = b"", timeout: float = 5.0) -> bytes:
    """Send the request line and headers and the first bytes of a (much larger) body; return what the
    server answers before the rest of the body was ever sent."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body_part)
        answer = b""
        deadline = time.monotonic() + timeout
        while not _complete(answer) and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _upload_head(path: str, length: int | None, token: str | None = None) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: multipart/form-data; boundary=XyZ"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n"


def test_an_anonymous_300_mb_upload_is_refused_before_its_body_is_read(server, http):
    for path in (f"{API}/attempts/1/audio", f"{API}/attempts/1/frames", f"{API}/users/import"):
        answer = _raw_request(server, _upload_head(path, 300 * 1024 * 1024), b"--XyZ\r\n" + b"x" * 1000)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b"log in first" in answer or b"www-authenticate" in answer.lower()


def test_uploads_over_the_cap_are_413_from_content_length_or_while_streaming(server, http):
    token = login(http, "student")["Authorization"].split()[1]
    declared = _raw_request(server, _upload_head(f"{API}/attempts/1/frames", 300 * 1024 * 1024, token))
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
    assert b"too large" in declared

    def chunks() -> Iterator[bytes]:
        yield b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename="f.jpg"\r\n\r\n'
        for _ in range(40):  # 40 x 256 KiB = 10 MiB, past the 2 MiB frame cap, without a Content-Length
            yield b"x" * 256 * 1024

    streamed = http.post(
        f"{API}/attempts/1/frames",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert streamed.status_code == 413, streamed.text
    assert "too large" in streamed.json()["detail"]
    big_json = http.post(f"{API}/tests", content=b"[" + b"1," * 1_000_000 + b"1]",
                         headers={**login(http, "teacher"), "Content-Type": "application/json"})  # fmt: skip
    assert big_json.status_code == 413


def test_ordinary_uploads_still_work(http):
    teacher, student = login(http, "teacher"), login(http, "student")
    test = create_test(http, teacher, oral_payload(questions=1))
    attempt = http.post(f"{API}/tests/{test['id']}/attempts", headers=student,
                        json={"camera": True, "microphone": True}).json()  # fmt: skip
    stored = http.post(
        f"{API}/attempts/{attempt['id']}/audio",
        headers=student,
        files={"audio": ("a.webm", b"\x1aE\xdf\xa3" + b"x" * 5000, "audio/webm")},
        data={"question_id": str(test["questions"][0]["id"]), "started_at": "2026-03-01T09:30:00Z"},
    )
    assert stored.status_code == 202, stored.text  # the AI server is down: kept and queued


def test_sixteen_concurrent_wrong_guesses_process_at_most_the_limit(http, server):
    def guess(_: int) -> int:
        with httpx.Client(base_url=server, timeout=30) as client:
            return client.post(
                f"{API}/auth/login", data={"username": "student", "password": "wrong-pw-1"}
            ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(guess, range(16)))
    assert statuses.count(401) == MAX_FAILURES, statuses
    assert statuses.count(429) == 16 - MAX_FAILURES, statuses


def test_rotating_x_forwarded_for_does_not_reset_the_limit(http):
    statuses = [
        http.post(
            f"{API}/auth/login",
            data={"username": "student", "password": "wrong-pw-1"},
            headers={"X-Forwarded-For": f"10.0.{i}.{i}", "X-Real-IP": f"10.1.{i}.{i}"},
        ).status_code
        for i in range(MAX_FAILURES + 3)
    ]
    assert statuses == [401] * MAX_FAILURES + [429] * 3
    right = http.post(f"{API}/auth/login", data={"username": "student", "password": PASSWORD},
                      headers={"X-Forwarded-For": "10.9.9.9"})  # fmt: skip
    assert right.status_code == 429
