"""Real-time factor of ``POST /v1/voice`` (seconds of audio analysed per wall-clock second).

Recordings of 5, 10, 30 and 120 s are built by concatenating RAVDESS clips (with their pauses) and encoding
them to WebM/Opus, 48 kHz stereo, as a browser's MediaRecorder would. Against a real uvicorn AI server that
the script starts on a free port, or ``--url`` of a running one::

    .venv/bin/python bench/bench_voice.py [--url http://127.0.0.1:8001] [--repeat 5] [--concurrency 4]

Target: at least 50x real time for a 10 s answer (one request at a time).
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.media import mixed_speech  # noqa: E402
from tests.support.servers import running_ai_server  # noqa: E402

DURATIONS = (5.0, 10.0, 30.0, 120.0)


async def post(client: httpx.AsyncClient, url: str, data: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = await client.post(f"{url}/v1/voice", files={"audio": ("answer.webm", data, "audio/webm")})
    wall = time.perf_counter() - t0
    r.raise_for_status()
    return wall, r.json()


async def bench(url: str, repeat: int, concurrency: int) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        print(f"server {url}; WebM/Opus 48 kHz stereo; median of {repeat} sequential requests")
        print(f"{'audio s':>8} {'windows':>8} {'wall ms':>9} {'server ms':>10} {'RTF (x real time)':>18}")
        for seconds in DURATIONS:
            data = mixed_speech(seconds)
            await post(client, url, data)  # warm-up
            walls, server = [], []
            for _ in range(repeat):
                wall, body = await post(client, url, data)
                walls.append(wall)
                server.append(body["elapsed_ms"])
            wall = statistics.median(walls)
            print(
                f"{seconds:8.0f} {len(body['segments']):8d} {wall * 1000:9.1f} "
                f"{statistics.median(server):10.1f} {seconds / wall:18.1f}"
            )
        data = mixed_speech(10.0, seed=1)
        t0 = time.perf_counter()
        await asyncio.gather(*(post(client, url, data) for _ in range(concurrency * repeat)))
        wall = time.perf_counter() - t0
        n = concurrency * repeat
        print(
            f"throughput: {n} x 10 s answers, {concurrency} at a time: {n * 10 / wall:.1f} s of audio per "
            f"wall second ({wall / n * 1000:.1f} ms per answer)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running AI server; default: start one on a free port")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with running_ai_server(args.url, Path(tempfile.gettempdir()) / "bench_voice_ai_server.log") as url:
        asyncio.run(bench(url.rstrip("/"), args.repeat, args.concurrency))


if __name__ == "__main__":
    main()
