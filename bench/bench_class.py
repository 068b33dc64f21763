"""A class taking an oral test with the camera on: how many students can this machine serve?

Each simulated student logs in, starts an attempt, sends a webcam JPEG (a 640x480 room scaled to 480x360,
quality 85, as the browser sends it) every 2 s and, during the round, one 5 s WebM/Opus oral answer (real
RAVDESS speech) per oral question, then submits. The frames are cluttered, textured rooms
(``tests/support/frames.py``, seeded): each student sits at their own place in their own room, moving a few
pixels between frames. Everything goes over HTTP through the
real web server (uvicorn, PostgreSQL; uploads are queued and answered 202, the analysis workers send the
frames to the AI server in batches) to the real AI server (uvicorn, real models), all started here.

A round is sustained when the upload p95 is under 1 s, every upload is accepted (202, none refused with 503
or failed), and every frame and answer is analysed within 20 s of the round's end, nothing lost (every
accepted upload is in the database and analysed). Prints one line per round with the CPU seconds each
process (web, worker, AI, PostgreSQL, the bench itself) spent per upload, and the largest sustained class.

    .venv/bin/python bench/bench_class.py [--sizes 8,16,32,48,64,80] [--duration 30] [--questions 1]
        [--web-workers 1] [--separate-worker 0] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.db import create_class  # noqa: E402
from tests.support.frames import single_person_frame  # noqa: E402
from tests.support.media import webm_speech  # noqa: E402
from tests.support.postgres import start_postgres  # noqa: E402
from tests.support.servers import AIServerProcess, WebServerProcess, spawn, stop_process  # noqa: E402
from web_server.core.db import make_engine  # noqa: E402
from web_server.prestart import migrate  # noqa: E402

API = "/api/v1"
PASSWORD = "bench-password-1"
FRAME_EVERY_S = 2.0
P95_LIMIT_MS = 1000.0
DRAIN_LIMIT_S = 20.0
JPEG_QUALITY = 85
FRAME_WIDTH = 480  # what the browser sends (frontend/src/lib/settings.js FRAME_MAX_WIDTH)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU time of process trees (/proc) ---------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its children that ended)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        table[int(entry.name)] = (ppid, ticks / CLOCK_TICKS)
    return table


def tree_cpu(root: int | None, table: dict[int, tuple[int, float]]) -> float:
    if root is None or root not in table:
        return float("nan")
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo += children.get(pid, [])
    return total


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- a round -----------------------------------------------------------------------------------------


@dataclass
class Round:
    size: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"frame": [], "audio": []})
    accepted: int = 0
    refused: int = 0
    failed: int = 0
    lost: int = 0
    unanalysed: int = 0
    drain_s: float = float("nan")
    cpu: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def uploads(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def p(self, q: int, kind: str | None = None) -> float:
        values = self.latencies[kind] if kind else self.latencies["frame"] + self.latencies["audio"]
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    @property
    def sustained(self) -> bool:
        return (
            self.p(95) < P95_LIMIT_MS
            and self.refused == 0
            and self.failed == 0
            and self.lost == 0
            and self.unanalysed == 0
            and self.drain_s <= DRAIN_LIMIT_S
        )


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


async def upload(client: httpx.AsyncClient, rnd: Round, kind: str, path: str, headers, files, data) -> None:
    t = time.perf_counter()
    try:
        r = await client.post(path, headers=headers, files=files, data=data)
    except httpx.HTTPError as exc:
        rnd.failed += 1
        rnd.errors.append(f"{kind}: {type(exc).__name__}")
        return
    rnd.latencies[kind].append((time.perf_counter() - t) * 1000)
    if r.status_code == 202 and r.json()["status"] == "pending":
        rnd.accepted += 1
    elif r.status_code in (429, 503):
        rnd.refused += 1
        rnd.errors.append(f"{kind}: {r.status_code} {r.text[:120]}")
    else:
        rnd.failed += 1
        rnd.errors.append(f"{kind}: {r.status_code} {r.text[:120]}")


def student_frames(index: int, seed: int, n: int = 4) -> list[bytes]:
    """One student at their place in their own cluttered room, moving a few pixels between frames."""
    frame = single_person_frame(index, seed=seed, textured=True).image
    rng = np.random.default_rng(seed * 1000 + index)
    out = []
    for _ in range(n):
        dx, dy = (int(v) for v in rng.integers(-6, 7, 2))
        moved = np.roll(frame, (dy, dx), axis=(0, 1))
        noisy = np.clip(moved.astype(np.int16) + rng.integers(-3, 4, moved.shape), 0, 255).astype(np.uint8)
        noisy = cv2.resize(noisy, (FRAME_WIDTH, FRAME_WIDTH * 3 // 4), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        assert ok
        out.append(buf.tobytes())
    return out


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
    await asyncio.sleep(rng.uniform(0, 3))  # the class opens the test within a few seconds, not all at once
    for _ in range(10):  # a student whose start fails (503, no answer) clicks again
        try:
            r = await client.post(f"{API}/tests/{test['id']}/attempts", headers=headers, json=consent)
        except httpx.HTTPError as exc:
            rnd.errors.append(f"start: {type(exc).__name__}")
            continue
        if r.status_code < 500:
            break
        rnd.errors.append(f"start: {r.status_code} {r.text[:120]}")
        await asyncio.sleep(2)
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
        files = {"audio": ("answer.webm", answers[(k + rng.randrange(3)) % len(answers)], "audio/webm")}
        await upload(client, rnd, "audio", f"{API}/attempts/{aid}/audio", headers, files,
                     {"question_id": str(q), "started_at": iso(started)})  # fmt: skip

    spoken = questions if answers else []  # no answers: frames only
    await asyncio.gather(frame_loop(), *(answer(k, q) for k, q in enumerate(spoken)))
    await asyncio.gather(*tasks)
    for _ in range(10):  # the browser retries the submission until it lands
        try:
            r = await client.post(f"{API}/attempts/{aid}/submit", headers=headers)
        except httpx.HTTPError as exc:  # e.g. a kept-alive connection the server closed meanwhile
            rnd.errors.append(f"submit: {type(exc).__name__}")
            continue
        if r.status_code == 200:
            return
        rnd.errors.append(f"submit: {r.status_code} {r.text[:120]}")
        await asyncio.sleep(2)
    rnd.failed += 1


async def run_round(base: str, tokens: list[str], teacher: str, size: int, args, frames, answers) -> Round:
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
            *(
                student(client, rnd, tokens[i], test, args.duration, frames[i], answers, rng)
                for i in range(size)
            )
        )
    return rnd


def ai_metrics(url: str) -> dict[str, float]:
    """The AI server's counters that matter here: per-stage seconds and counts, face searches."""
    values: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(
            ("fasel_ai_stage_seconds_sum", "fasel_ai_stage_seconds_count", "fasel_ai_face_search")
        ):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def stage_line(before: dict[str, float], after: dict[str, float]) -> str:
    """Mean ms per frame of each stage of the AI server over the round, and the region-search hit rate."""
    parts = []
    for stage in ("decode", "detect", "preprocess", "model"):
        key = f'fasel_ai_stage_seconds_{{}}{{{{stage="{stage}"}}}}'
        n = after.get(key.format("count"), 0) - before.get(key.format("count"), 0)
        s = after.get(key.format("sum"), 0) - before.get(key.format("sum"), 0)
        parts.append(f"{stage} {1000 * s / n:.1f}" if n else f"{stage} -")
    searches = {
        r: after.get(f'fasel_ai_face_search_total{{result="{r}"}}', 0)
        - before.get(f'fasel_ai_face_search_total{{result="{r}"}}', 0)
        for r in ("hit", "fallback", "whole")
    }
    total = sum(searches.values()) or 1
    share = {r: f"{n / total:.0%}" for r, n in searches.items()}
    return (
        f"AI ms per frame: {', '.join(parts)}; face searches: near the hint {share['hit']}, "
        f"fell back to the whole frame {share['fallback']}, whole frame {share['whole']}"
    )


def media_counts(engine, since: datetime) -> dict[str, int]:
    """capture_media rows of uploads since `since`, by status (pending, analysed, unanalysed)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM capture_media WHERE created_at >= :since GROUP BY status"),
            {"since": since},
        ).all()
    return {status: int(n) for status, n in rows}


def drain(engine, since: datetime, limit_s: float) -> tuple[float, dict[str, int]]:
    """Wait until nothing uploaded since `since` is pending (at most `limit_s` + 40 s); seconds waited."""
    t = time.monotonic()
    while True:
        counts = media_counts(engine, since)
        waited = time.monotonic() - t
        if not counts.get("pending") or waited > limit_s + 40:
            return (waited if not counts.get("pending") else float("inf")), counts
        time.sleep(0.25)


# --- servers -----------------------------------------------------------------------------------------


def postgres_pid(server) -> int | None:
    folder = getattr(server, "folder", None)
    if folder is None:
        return None
    for pidfile in Path(folder).rglob("postmaster.pid"):
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="8,16,32,48,64,80", help="class sizes to try, ascending")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of test per round")
    parser.add_argument(
        "--questions", type=int, default=1, help="oral questions (one 5 s answer each; 0: frames only)"
    )
    parser.add_argument(
        "--web-workers", type=int, default=1, help="uvicorn worker processes of the web server"
    )
    parser.add_argument(
        "--separate-worker", type=int, default=0,
        help="run N analysis worker loops as `python -m web_server.worker` (0: inside the web processes)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=7, help="seed of the textured frames")
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
    ai = web = worker = None
    try:
        migrate(url)
        create_class(url, [f"pupil{i:03d}" for i in range(max(sizes))], PASSWORD)
        engine = make_engine(url)
        ai = AIServerProcess(work / "ai_server.log").start()
        env = {
            "DATABASE_URL": url,
            "AI_SERVER_URL": ai.url,
            "MEDIA_DIR": str(work / "media"),
            "EMOTION_ANALYSIS": "individual",
            "FRAME_MIN_INTERVAL_S": "1.0",
            "ANALYSIS_WORKERS": "0" if args.separate_worker else "1",
        }
        web = WebServerProcess(env, work / "web_server.log", workers=args.web_workers, prestart=False).start()
        base = web.url
        if args.separate_worker:
            worker = spawn(["-m", "web_server.worker", "--workers", str(args.separate_worker)], env,
                           work / "worker.log")  # fmt: skip
        with httpx.Client(base_url=base) as c:

            def token(name: str) -> str:
                r = c.post(f"{API}/auth/login", data={"username": name, "password": PASSWORD})
                r.raise_for_status()
                return r.json()["access_token"]

            teacher = token("teacher")
            tokens = [token(f"pupil{i:03d}") for i in range(max(sizes))]
        frames = [student_frames(i, args.seed) for i in range(max(sizes))]
        answers = [webm_speech(code, actor) for code, actor in (("03", 1), ("04", 2), ("05", 3))]
        if args.questions == 0:
            answers = []
        # warm-up: the first calls compile the models
        warm = argparse.Namespace(duration=6.0, questions=1)
        asyncio.run(run_round(base, tokens, teacher, 1, warm, frames, answers))
        drain(engine, datetime(2000, 1, 1, tzinfo=UTC), DRAIN_LIMIT_S)

        pg = postgres_pid(server)

        def cpu_now() -> dict[str, float]:
            table = _proc_table()
            roots = {
                "web": web.proc.pid,
                "worker": worker.pid if worker else None,
                "ai": ai.proc.pid,
                "postgres": pg,
            }
            return {**{k: tree_cpu(pid, table) for k, pid in roots.items()}, "bench": self_cpu()}

        print(
            f"round {args.duration:.0f} s: textured frames every {FRAME_EVERY_S:.0f} s, {args.questions} "
            f"answer(s) of 5 s per student; web workers {args.web_workers}, analysis "
            f"{f'apart: {args.separate_worker} loops' if args.separate_worker else 'in the web process'}"
        )
        print(f"{'students':>8} {'uploads':>7} {'p50 ms':>7} {'p95 ms':>7} {'frame p95':>9} {'audio p95':>9} "
              f"{'refused':>7} {'lost':>4} {'unanal.':>7} {'drain s':>7}  ok   "
              f"CPU ms/upload: web worker ai postgres bench")  # fmt: skip
        best = 0
        for size in sizes:
            since = datetime.now(UTC) - timedelta(seconds=1)
            before, stages = cpu_now(), ai_metrics(ai.url)
            rnd = asyncio.run(run_round(base, tokens, teacher, size, args, frames, answers))
            rnd.drain_s, counts = drain(engine, since, DRAIN_LIMIT_S)
            after = cpu_now()
            rnd.cpu = {k: (after[k] - before[k]) * 1000 / max(1, rnd.uploads) for k in before}
            stored = sum(counts.values())
            rnd.lost = max(0, rnd.accepted - stored)
            rnd.unanalysed = counts.get("unanalysed", 0) + counts.get("pending", 0)
            cpu = " ".join(f"{rnd.cpu[k]:.1f}" for k in ("web", "worker", "ai", "postgres", "bench"))
            ok = "yes" if rnd.sustained else "no "
            print(f"{size:>8} {rnd.uploads:>7} {rnd.p(50):>7.0f} {rnd.p(95):>7.0f} "
                  f"{rnd.p(95, 'frame'):>9.0f} {rnd.p(95, 'audio'):>9.0f} {rnd.refused:>7} {rnd.lost:>4} "
                  f"{rnd.unanalysed:>7} {rnd.drain_s:>7.1f}  {ok}  {cpu}", flush=True)  # fmt: skip
            print("   ", stage_line(stages, ai_metrics(ai.url)), flush=True)
            for e in rnd.errors[:3]:
                print("   ", e)
            if rnd.sustained:
                best = size
            elif not args.keep_going:
                break
        print(f"largest class sustained (p95 < {P95_LIMIT_MS:.0f} ms, all accepted, all analysed within "
              f"{DRAIN_LIMIT_S:.0f} s of the round's end, nothing lost): {best}")  # fmt: skip
        engine.dispose()
    finally:
        stop_process(worker)
        if web is not None:
            web.stop()
        if ai is not None:
            ai.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
