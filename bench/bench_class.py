"""A class taking an oral test with the camera on: how many students can this machine serve?

Each simulated student logs in, starts an attempt, sends a 640x480 webcam JPEG (a real FER2013 face) every
2 s and, during the round, one 5 s WebM/Opus oral answer (real RAVDESS speech) per oral question, then
submits. Everything goes over HTTP through the real web server (uvicorn, PostgreSQL) to the real AI server
(uvicorn, real models), both started here. Rounds grow the class (1, 2, 4, ... students); a round is
sustained when the p95 latency of the uploads is under 1 s, no request is lost (error, or no sample stored)
and none is deferred (202 pending: the AI server could not keep up). Prints one line per round and the
largest sustained class size.

    .venv/bin/python bench/bench_class.py [--sizes 1,2,4,8,12,16] [--duration 30] [--questions 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from tests.capture.media import one_face, webm_speech  # noqa: E402
from tests.support.ai_server import AIServerProcess  # noqa: E402
from tests.support.postgres import start_postgres  # noqa: E402
from tests.support.uvicorn import free_port, spawn_uvicorn, stop_process, wait_ready  # noqa: E402
from web_server.core.config import Settings  # noqa: E402
from web_server.core.db import make_engine  # noqa: E402
from web_server.models.user import Role, UserCreate  # noqa: E402
from web_server.prestart import migrate  # noqa: E402
from web_server.services import users  # noqa: E402

API = "/api/v1"
PASSWORD = "bench-password-1"
FRAME_EVERY_S = 2.0
P95_LIMIT_MS = 1000.0


@dataclass
class Round:
    size: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"frame": [], "audio": []})
    lost: int = 0
    deferred: int = 0
    analysed: int = 0
    errors: list[str] = field(default_factory=list)

    def p(self, q: int, kind: str | None = None) -> float:
        values = self.latencies[kind] if kind else self.latencies["frame"] + self.latencies["audio"]
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    @property
    def sustained(self) -> bool:
        return self.p(95) < P95_LIMIT_MS and self.lost == 0 and self.deferred == 0


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


async def upload(client: httpx.AsyncClient, rnd: Round, kind: str, path: str, headers, files, data) -> None:
    t = time.perf_counter()
    try:
        r = await client.post(path, headers=headers, files=files, data=data)
    except httpx.HTTPError as exc:
        rnd.lost += 1
        rnd.errors.append(f"{kind}: {type(exc).__name__}")
        return
    rnd.latencies[kind].append((time.perf_counter() - t) * 1000)
    if r.status_code == 200 and r.json()["status"] == "analysed":
        rnd.analysed += 1
    elif r.status_code == 202:
        rnd.deferred += 1
    else:
        rnd.lost += 1
        rnd.errors.append(f"{kind}: {r.status_code} {r.text[:120]}")


async def student(
    client: httpx.AsyncClient,
    rnd: Round,
    token: str,
    test: dict,
    duration: float,
    frames: list[bytes],
    answers: list[bytes],
    rng: random.Random,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    consent = {"camera": True, "microphone": True}  # frames are refused without camera consent
    r = await client.post(f"{API}/tests/{test['id']}/attempts", headers=headers, json=consent)
    r.raise_for_status()
    aid = r.json()["id"]
    questions = [q["id"] for q in test["questions"]]
    t0 = time.monotonic()
    tasks = []

    async def frame_loop() -> None:
        await asyncio.sleep(rng.uniform(0, FRAME_EVERY_S))
        i = 0
        while time.monotonic() - t0 < duration:
            q = questions[min(len(questions) - 1, int((time.monotonic() - t0) / duration * len(questions)))]
            files = {"image": ("frame.jpg", frames[i % len(frames)], "image/jpeg")}
            data = {"captured_at": iso(datetime.now(UTC)), "question_id": str(q)}
            tasks.append(asyncio.create_task(upload(client, rnd, "frame", f"{API}/attempts/{aid}/frames",
                                                    headers, files, data)))  # fmt: skip
            i += 1
            await asyncio.sleep(FRAME_EVERY_S)

    async def answer(k: int, q: int) -> None:
        # the recording is sent when the student stops talking: 5 s after it started
        await asyncio.sleep((k + 0.5) * duration / len(questions) + rng.uniform(-1, 1))
        started = datetime.now(UTC) - timedelta(seconds=5)
        files = {"audio": ("answer.webm", answers[k % len(answers)], "audio/webm")}
        await upload(client, rnd, "audio", f"{API}/attempts/{aid}/audio", headers, files,
                     {"question_id": str(q), "started_at": iso(started)})  # fmt: skip

    spoken = questions if answers else []  # no answers: frames only
    await asyncio.gather(frame_loop(), *(answer(k, q) for k, q in enumerate(spoken)))
    await asyncio.gather(*tasks)
    (await client.post(f"{API}/attempts/{aid}/submit", headers=headers)).raise_for_status()


async def run_round(base: str, tokens: list[str], teacher: str, size: int, args, media) -> Round:
    rnd = Round(size)
    limits = httpx.Limits(max_connections=4 * size + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        payload = {
            "title": f"Class of {size}",
            "topic": "bench",
            "kind": "oral",
            "published": True,
            "questions": [{"prompt": f"Speak about topic {i + 1}."} for i in range(max(1, args.questions))],
        }
        r = await client.post(f"{API}/tests", headers={"Authorization": f"Bearer {teacher}"}, json=payload)
        r.raise_for_status()
        test = r.json()
        rng = random.Random(size)
        await asyncio.gather(
            *(student(client, rnd, tokens[i], test, args.duration, *media, rng) for i in range(size))
        )
    return rnd


def stored_uploads(engine) -> int:
    """Uploads that left a trace: a frame analysed at once is one sample without media (raw frames are not
    kept); a recording, or a frame kept for later, is one capture_media row."""
    with engine.connect() as conn:
        frames = conn.execute(text("SELECT count(*) FROM emotion_sample WHERE media_id IS NULL")).scalar_one()
        media = conn.execute(text("SELECT count(*) FROM capture_media")).scalar_one()
    return frames + media


def start_web(database_url: str, ai_url: str, media_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "AI_SERVER_URL": ai_url,
        "MEDIA_DIR": str(media_dir),
        "EMOTION_ANALYSIS": "individual",
    }
    proc = spawn_uvicorn("web_server.main:app", port, env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(proc, f"{url}{API}/health", 40, "web server", log)
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,2,4,8,12,16", help="class sizes to try, ascending")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of test per round")
    parser.add_argument(
        "--questions", type=int, default=2, help="oral questions (one 5 s answer each; 0: frames only)"
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway server)")
    parser.add_argument("--keep-going", action="store_true", help="try every size even after a failure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="fasel-bench-class-"))
    server = None
    url = args.database_url
    if url is None:
        server = start_postgres()
        url = server.create_database("fasel_bench_class")
    ai = web = None
    try:
        migrate(url)
        settings = Settings(
            _env_file=None, DATABASE_URL=url, PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=1024
        )
        engine = make_engine(url)
        with Session(engine) as session:
            users.create_user(
                session, settings, UserCreate(username="teacher", password=PASSWORD, role=Role.teacher)
            )
            for i in range(max(sizes)):
                users.create_user(
                    session,
                    settings,
                    UserCreate(username=f"pupil{i:03d}", password=PASSWORD, role=Role.student),
                )
        ai = AIServerProcess(work / "ai_server.log").start()
        web, base = start_web(url, ai.url, work / "media", work / "web_server.log")
        with httpx.Client(base_url=base) as c:

            def token(name: str) -> str:
                r = c.post(f"{API}/auth/login", data={"username": name, "password": PASSWORD})
                r.raise_for_status()
                return r.json()["access_token"]

            teacher = token("teacher")
            tokens = [token(f"pupil{i:03d}") for i in range(max(sizes))]
        frames = [one_face(label) for label in ("happy", "neutral", "sad", "surprise")]
        answers = [webm_speech(code, actor) for code, actor in (("03", 1), ("04", 2), ("05", 3))]
        if args.questions == 0:
            answers = []
        # warm-up: the first calls compile the models
        asyncio.run(run_round(base, tokens, teacher, 1, argparse.Namespace(duration=6.0, questions=1),
                              (frames, answers)))  # fmt: skip

        print(f"round {args.duration:.0f} s: a frame every {FRAME_EVERY_S:.0f} s, {args.questions} answers")
        print(f"{'students':>8} {'uploads':>7} {'p50 ms':>7} {'p95 ms':>7} {'frame p95':>9} {'audio p95':>9} "
              f"{'deferred':>8} {'lost':>4} {'stored':>6}  ok")  # fmt: skip
        best = 0
        for size in sizes:
            before = stored_uploads(engine)
            rnd = asyncio.run(run_round(base, tokens, teacher, size, args, (frames, answers)))
            after = stored_uploads(engine)
            stored = after - before
            n = sum(len(v) for v in rnd.latencies.values())
            accepted = rnd.analysed + rnd.deferred
            if stored < accepted:  # accepted by the web server but not in the database
                rnd.lost += accepted - stored
            print(f"{size:>8} {n:>7} {rnd.p(50):>7.0f} {rnd.p(95):>7.0f} {rnd.p(95, 'frame'):>9.0f} "
                  f"{rnd.p(95, 'audio'):>9.0f} {rnd.deferred:>8} {rnd.lost:>4} {stored:>6}  "
                  f"{'yes' if rnd.sustained else 'no'}", flush=True)  # fmt: skip
            for e in rnd.errors[:3]:
                print("   ", e)
            if rnd.sustained:
                best = size
            elif not args.keep_going:
                break
        print(f"largest class sustained (p95 < {P95_LIMIT_MS:.0f} ms, nothing lost or deferred): {best}")
        engine.dispose()
    finally:
        stop_process(web)
        if ai is not None:
            ai.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
