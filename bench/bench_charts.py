"""Latency of the chart and report endpoints on a large PostgreSQL database.

Seeds 1,000 attempts x 900 emotion samples (600 face frames every 2 s, 300 voice segments; a few frames
without a face, a few unanalysed) spread over `--tests` tests of 10 questions and 50 students, in SQL
(generate_series). Then starts the real web server (uvicorn, one worker) on it and times, one request at a
time over HTTP, the endpoints a teacher and a student use; prints p50/p95 per endpoint. Target: p95 < 300 ms.

    .venv/bin/python bench/bench_charts.py [--database-url postgresql://...] [--tests 20] [--requests 100]

Without --database-url a throwaway PostgreSQL 15 is started from the machine's binaries (as in the tests).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.db import create_class  # noqa: E402
from tests.support.postgres import start_postgres  # noqa: E402
from tests.support.servers import WebServerProcess, free_port  # noqa: E402
from web_server.core.db import make_engine  # noqa: E402
from web_server.prestart import migrate  # noqa: E402

API = "/api/v1"
PASSWORD = "bench-password-1"
STUDENTS = 50
QUESTIONS = 10
SAMPLES = 900

SEED_SQL = """
INSERT INTO tests (title, topic, kind, published, created_by_id, created_at, updated_at)
SELECT 'Bench test ' || t, 'bench', 'oral', true, :teacher, now(), now() FROM generate_series(1, :tests) t;

INSERT INTO questions (test_id, position, prompt)
SELECT t.id, p, 'Question ' || p FROM tests t, generate_series(0, :questions - 1) p;

INSERT INTO attempts (test_id, student_id, started_at, submitted_at)
SELECT t.id, u.id, now() - ((row_number() OVER ()) * interval '1 minute'),
       now() - ((row_number() OVER ()) * interval '1 minute') + interval '30 minutes'
FROM (SELECT id FROM tests ORDER BY id) t
CROSS JOIN (SELECT id FROM users WHERE role = 'student' ORDER BY id) u
LIMIT :attempts;

INSERT INTO emotion_sample (attempt_id, question_id, modality, captured_at, offset_ms, emotion, confidence,
                            scores, faces, status, segment_start_s, segment_end_s)
SELECT a.id,
       q.id,
       CASE WHEN g % 3 = 2 THEN 'voice' ELSE 'face' END,
       a.started_at + g * interval '2 seconds',
       g * 2000,
       CASE WHEN g % 97 = 0 OR (g % 3 <> 2 AND g % 50 = 1) THEN NULL ELSE e.label END,
       CASE WHEN g % 97 = 0 OR (g % 3 <> 2 AND g % 50 = 1) THEN NULL ELSE e.conf END,
       CASE WHEN g % 97 = 0 OR (g % 3 <> 2 AND g % 50 = 1) THEN NULL
            ELSE json_build_object(e.label, e.conf, 'neutral', 1 - e.conf) END,
       CASE WHEN g % 3 = 2 THEN NULL WHEN g % 50 = 1 THEN 0 ELSE 1 END,
       CASE WHEN g % 97 = 0 THEN 'unanalysed' ELSE 'ok' END,
       CASE WHEN g % 3 = 2 THEN 0.0 END,
       CASE WHEN g % 3 = 2 THEN 2.0 END
FROM attempts a
CROSS JOIN generate_series(0, :samples - 1) g
JOIN questions q ON q.test_id = a.test_id AND q.position = g * :questions / :samples
CROSS JOIN LATERAL (
    SELECT (ARRAY['angry','disgust','fear','happy','neutral','sad','surprise'])[1 + (a.id * 7 + g * 13) % 7]
           AS label,
           0.4 + ((a.id + g) % 60) / 100.0 AS conf
) e;
"""


def seed(database_url: str, n_attempts: int, n_tests: int) -> None:
    """Seed once: a database that already holds the bench users is reused as it is."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM users WHERE username = 'teacher'")).scalar_one():
            n = conn.execute(text("SELECT count(*) FROM emotion_sample")).scalar_one()
            print(f"reusing the seeded database ({n:,} samples)")
            return
    t = time.perf_counter()
    teacher = create_class(database_url, [f"student{i:03d}" for i in range(STUDENTS)], PASSWORD)
    params = {
        "teacher": teacher,
        "tests": n_tests,
        "questions": QUESTIONS,
        "attempts": n_attempts,
        "samples": SAMPLES,
    }
    with engine.begin() as conn:
        for statement in SEED_SQL.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), params)
    # what autovacuum does on a live server: statistics and the visibility map (index-only scans)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        n = conn.execute(text("SELECT count(*) FROM emotion_sample")).scalar_one()
    engine.dispose()
    print(f"seeded {n_attempts} attempts, {n:,} samples in {time.perf_counter() - t:.1f} s")


def start_web(database_url: str, media: Path) -> WebServerProcess:
    """The web server on a free port, its AI server unreachable (charts need none); output in `media`."""
    env = {
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(media),
        "ENVIRONMENT": "development",
        "EMOTION_ANALYSIS": "individual",  # the teacher's views are what is measured
        "AI_SERVER_URL": f"http://127.0.0.1:{free_port()}",
    }
    return WebServerProcess(env, media / "web_server.log", prestart=False).start()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    r = client.post(f"{API}/auth/login", data={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def timed(client: httpx.Client, n: int, make, first_byte: bool = False) -> list[float]:
    """Milliseconds per request until the whole body is read (or only its first bytes)."""
    out = []
    for _ in range(n):
        path, headers, params = make()
        t = time.perf_counter()
        with client.stream("GET", path, headers=headers, params=params) as r:
            if first_byte:
                next(r.iter_raw())
            else:
                r.read()
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway server)")
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=20, help="attempts are spread over this many tests")
    parser.add_argument("--requests", type=int, default=100, help="requests per endpoint (CSV: a tenth)")
    args = parser.parse_args()
    if args.attempts > args.tests * STUDENTS:
        parser.error(f"--attempts must be at most --tests x {STUDENTS}")

    server = None
    url = args.database_url
    if url is None:
        server = start_postgres()
        url = server.create_database("fasel_bench")
    web = None
    try:
        migrate(url)
        seed(url, args.attempts, args.tests)
        web = start_web(url, Path(tempfile.mkdtemp(prefix="fasel-bench-media-")))
        base = web.url
        rng = random.Random(0)
        with httpx.Client(base_url=base, timeout=60) as client:
            teacher = login(client, "teacher")
            student = login(client, "student000")
            attempts = [
                c["attempt_id"] for c in client.get(f"{API}/charts?limit=500", headers=teacher).json()
            ]
            attempts += [
                c["attempt_id"]
                for c in client.get(f"{API}/charts?limit=500&offset=500", headers=teacher).json()
            ]
            tests = sorted(
                {c["test_id"] for c in client.get(f"{API}/charts?limit=500", headers=teacher).json()}
            )
            n = args.requests

            def attempt_path(suffix: str):
                return lambda: (f"{API}/attempts/{rng.choice(attempts)}/{suffix}", teacher, None)

            def report(params: dict | None):
                return lambda: (f"{API}/tests/{rng.choice(tests)}/report", teacher, params)

            cases = {
                "GET /attempts/{id}/charts (teacher)": (n, attempt_path("charts")),
                "GET /attempts/{id}/emotions (900 samples)": (n, attempt_path("emotions")),
                "GET /charts (teacher, 100 newest)": (n, lambda: (f"{API}/charts", teacher, None)),
                "GET /charts?test_id= (teacher)": (
                    n,
                    lambda: (f"{API}/charts", teacher, {"test_id": rng.choice(tests)}),
                ),
                "GET /charts (student, own)": (n, lambda: (f"{API}/charts", student, None)),
                "GET /tests/{id}/report": (n, report(None)),
                "GET /tests/{id}/report?format=csv (full download)": (
                    max(3, n // 10),
                    report({"format": "csv"}),
                ),
                "GET /tests/{id}/report?format=csv (first byte)": (
                    max(3, n // 10),
                    report({"format": "csv"}),
                ),
            }
            per_test = args.attempts // args.tests * SAMPLES
            print(f"{args.attempts} attempts x {SAMPLES} samples, {args.tests} tests ({per_test:,}/test)")
            print(f"{'endpoint':52} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
            timed(client, 5, cases["GET /attempts/{id}/charts (teacher)"][1])  # warm-up
            for name, (count, make) in cases.items():
                ms = timed(client, count, make, first_byte="first byte" in name)
                print(f"{name:52} {count:>4} {pct(ms, 50):>8.1f} {pct(ms, 95):>8.1f}", flush=True)
    finally:
        if web is not None:
            web.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
