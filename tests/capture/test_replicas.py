"""Past one server, on loopback: PostgreSQL + 2 web processes + 1 analysis worker process + 2 AI servers,
behind Debian's nginx (started here). A class takes an oral test through nginx; mid-round one web process
and one AI server are killed. Every upload the servers acknowledged (202) is analysed, every oral answer is
kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import TEST_SECRET_KEY
from tests.support.db import create_class
from tests.support.media import one_face, webm_speech
from tests.support.servers import (
    AIServerProcess,
    free_port,
    kill,
    spawn,
    spawn_uvicorn,
    stop_process,
    wait_ready,
)
from web_server.core.db import make_engine
from web_server.prestart import migrate

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
API = "/api/v1"
PASSWORD = "replica-password-1"
STUDENTS, ROUND_S, FRAME_EVERY_S, KILL_AT_S = 6, 12.0, 0.6, 5.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(NGINX).exists(), reason="nginx is not installed (scripts/setup.sh --dev does)"
    ),
]

NGINX_CONF = """
daemon off;
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 25m;
    client_body_buffer_size 1m;
    upstream web {{ server 127.0.0.1:{web1}; server 127.0.0.1:{web2}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def test_a_class_through_nginx_survives_a_web_process_and_an_ai_server_killed(postgres_server, tmp_path):
    url = postgres_server.create_database("fasel_replicas")
    migrate(url)
    create_class(url, [f"pupil{i}" for i in range(STUDENTS)], PASSWORD)
    engine = make_engine(url)

    procs: list[subprocess.Popen] = []
    ais = [AIServerProcess(tmp_path / f"ai{i}.log") for i in range(2)]
    try:
        for ai in ais:
            ai.start()
        env = {
            "ENVIRONMENT": "test",
            "SECRET_KEY": TEST_SECRET_KEY,  # shared by every web process
            "DATABASE_URL": url,
            "AI_SERVER_URL": ",".join(ai.url for ai in ais),
            "MEDIA_DIR": str(tmp_path / "media"),  # one media store for every process
            "FRONTEND_DIST": str(tmp_path / "no-frontend"),
            "EMOTION_ANALYSIS": "individual",
            "ANALYSIS_WORKERS": "0",  # the worker process analyses
            "FRAME_MIN_INTERVAL_S": "0.5",
            "AI_TIMEOUT_S": "60",
            "RETRY_BACKOFF_S": "0.5",
            "RETRY_BACKOFF_MAX_S": "2",
            "RETRY_MAX_ATTEMPTS": "1000",
            "RETRY_POLL_S": "0.2",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        webs, ports = [], [free_port(), free_port()]
        for i, port in enumerate(ports):
            webs.append(spawn_uvicorn("web_server.main:app", port, env, tmp_path / f"web{i}.log"))
            procs.append(webs[-1])
        for proc, port in zip(webs, ports, strict=True):
            wait_ready(proc, f"http://127.0.0.1:{port}{API}/health", 60, "web server", tmp_path / "web.log")
        procs.append(spawn(["-m", "web_server.worker", "--workers", "2"], env, tmp_path / "worker.log"))
        prefix, port = tmp_path / "nginx", free_port()
        prefix.mkdir()
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, prefix=prefix, web1=ports[0], web2=ports[1], port=port))
        procs.append(spawn([NGINX, "-c", str(conf), "-p", str(prefix)], {}, prefix / "stdout.log"))
        base = f"http://127.0.0.1:{port}"
        wait_ready(procs[-1], f"{base}{API}/health", 20, "nginx", prefix / "error.log")

        acknowledged, answered = run_class(base, kill_mid_round=lambda: (kill(webs[0]), kill(ais[0].proc)))
        assert acknowledged["frame"] > STUDENTS * 5 and acknowledged["audio"] == STUDENTS

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(text("SELECT status, count(*) FROM capture_media GROUP BY status")).all()
                )
            if not counts.get("pending"):
                break
            time.sleep(0.5)
        # a process killed after storing an upload and before answering may store more than was acknowledged
        assert set(counts) == {"analysed"}, counts
        assert counts["analysed"] >= acknowledged["frame"] + acknowledged["audio"], (counts, acknowledged)
        with engine.connect() as conn:
            recordings = conn.execute(
                text("SELECT count(*) FROM answers WHERE recording_path IS NOT NULL")
            ).scalar()
            frames = conn.execute(
                text(
                    "SELECT count(*) FROM emotion_sample "
                    "WHERE modality = 'face' AND status IN ('ok', 'uncertain')"
                )
            ).scalar()
        assert recordings == answered == STUDENTS  # no answer lost
        assert frames >= acknowledged["frame"]  # every acknowledged frame is a sample
    finally:
        for proc in reversed(procs):
            stop_process(proc)
        for ai in ais:
            ai.stop()
        engine.dispose()
        postgres_server.drop_database(url)


def run_class(base: str, kill_mid_round) -> tuple[dict[str, int], int]:
    """Every student logs in, starts an attempt, sends frames and one recording; frames refused or failed are
    skipped (as the browser does), a recording is sent again until it lands. Returns the 202s per kind and
    the recordings that landed."""
    frame, speech = one_face("happy"), webm_speech("03", actor=1)
    with httpx.Client(base_url=base, timeout=30) as client:

        def login(name: str) -> dict[str, str]:
            r = client.post(f"{API}/auth/login", data={"username": name, "password": PASSWORD})
            r.raise_for_status()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        teacher = login("teacher")
        test = client.post(
            f"{API}/tests",
            headers=teacher,
            json={"title": "Replicas", "topic": "t", "kind": "oral", "published": True,
                  "questions": [{"prompt": "Speak."}]},
        ).json()  # fmt: skip
        q = test["questions"][0]["id"]
        students = [login(f"pupil{i}") for i in range(STUDENTS)]
    acknowledged = {"frame": 0, "audio": 0}
    answered = 0
    lock = threading.Lock()
    t0 = time.monotonic()

    def student(headers: dict[str, str], i: int) -> None:
        nonlocal answered
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post(
                f"{API}/tests/{test['id']}/attempts",
                headers=headers,
                json={"camera": True, "microphone": True},
            )
            r.raise_for_status()
            aid = r.json()["id"]
            sent_audio = False
            while time.monotonic() - t0 < ROUND_S or not sent_audio:
                now = datetime.now(UTC)
                if not sent_audio and time.monotonic() - t0 > 2 + i:
                    started = (now - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
                    try:
                        r = c.post(f"{API}/attempts/{aid}/audio", headers=headers,
                                   files={"audio": ("a.webm", speech, "audio/webm")},
                                   data={"question_id": str(q), "started_at": started})  # fmt: skip
                    except httpx.HTTPError:
                        continue  # sent again until it lands
                    if r.status_code == 202:
                        sent_audio = True
                        with lock:
                            acknowledged["audio"] += 1
                            answered += 1
                    elif r.status_code not in (502, 503, 504):
                        raise AssertionError(f"recording: {r.status_code} {r.text}")
                    continue
                try:
                    at = now.isoformat().replace("+00:00", "Z")
                    r = c.post(f"{API}/attempts/{aid}/frames", headers=headers,
                               files={"image": ("f.jpg", frame, "image/jpeg")},
                               data={"question_id": str(q), "captured_at": at})  # fmt: skip
                except httpx.HTTPError:
                    r = None  # skipped, as the browser does
                if r is not None and r.status_code == 202:
                    with lock:
                        acknowledged["frame"] += 1
                elif r is not None:
                    assert r.status_code in (429, 502, 503, 504), f"frame: {r.status_code} {r.text}"
                time.sleep(FRAME_EVERY_S)

    threads = [threading.Thread(target=student, args=(h, i)) for i, h in enumerate(students)]
    for t in threads:
        t.start()
    time.sleep(KILL_AT_S)
    kill_mid_round()
    for t in threads:
        t.join(timeout=120)
    return acknowledged, answered
