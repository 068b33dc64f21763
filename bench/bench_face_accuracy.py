"""Emotion accuracy through the whole face path: held-out faces in cluttered rooms, via ``POST /v1/face``.

    .venv/bin/python bench/bench_face_accuracy.py --faces 500 [--url http://127.0.0.1:8001]

Faces the served model was not trained on (FER2013 PublicTest and the fixed RAF-DB train hold-out), each one
the Haar cascade finds on a plain background (``tests/support/frames.detectable``), are pasted at 120-220 px
at a random place of a 640x480 textured frame (seeded) and sent as JPEG: detection, the served crop and the
model, as in a class. Prints per set the share of frames answered with the right emotion (of all frames and of
those where a face was found), the detection rate and the share of uncertain answers. Without ``--url`` a real
uvicorn AI server is started (``AI_FER_MODEL_PATH`` chooses the model).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai_server.training.data import rafdb_holdout_mask  # noqa: E402
from tests.support.data import FER_VAL, LABELS, RAF_TRAIN  # noqa: E402
from tests.support.frames import compose, detectable  # noqa: E402
from tests.support.servers import running_ai_server  # noqa: E402


def held_out_faces() -> dict[str, list[tuple[Path, int]]]:
    """(path, label index) of FER2013 PublicTest and of the RAF-DB hold-out (``load_rafdb``'s order)."""
    val = [(p, i) for i, label in enumerate(LABELS) for p in sorted((FER_VAL / label).glob("*.jpg"))]
    raf = [(p, i) for i, label in enumerate(LABELS) for p in sorted((RAF_TRAIN / label).glob("*.jpg"))]
    hold = rafdb_holdout_mask(np.array([y for _, y in raf]))
    return {"FER2013 PublicTest": val, "RAF-DB hold-out": [f for f, h in zip(raf, hold, strict=True) if h]}


def frames(faces: list[tuple[Path, int]], n: int, rng: np.random.Generator) -> list[tuple[int, bytes]]:
    out = []
    for k in rng.permutation(len(faces)):
        path, label = faces[k]
        if detectable(path):
            size = int(rng.integers(120, 221))
            x, y = int(rng.integers(0, 640 - size)), int(rng.integers(0, 480 - size))
            out.append((label, compose([(path, x, y, size)], seed=int(k), textured=True).jpeg()))
            if len(out) == n:
                break
    return out


async def score(url: str, jobs: list[tuple[int, bytes]], concurrency: int = 8) -> dict[str, float]:
    sem = asyncio.Semaphore(concurrency)
    answers: list[tuple[int, dict | None]] = []
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(label: int, data: bytes) -> None:
            async with sem:
                r = await client.post(f"{url}/v1/face", files={"image": ("frame.jpg", data, "image/jpeg")})
            r.raise_for_status()
            faces = r.json()["faces"]
            answers.append((label, faces[0] if faces else None))

        await asyncio.gather(*(one(*job) for job in jobs))
    found = [(label, face) for label, face in answers if face is not None]
    right = sum(LABELS.index(face["emotion"]) == label for label, face in found)
    return {
        "right of all": right / len(answers),
        "right of found": right / max(1, len(found)),
        "found": len(found) / len(answers),
        "uncertain": sum(face["uncertain"] for _, face in found) / max(1, len(found)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=500, help="frames per set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", help="a running AI server (default: start one)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    jobs = {name: frames(faces, args.faces, rng) for name, faces in held_out_faces().items()}
    with running_ai_server(args.url, Path(tempfile.mkdtemp()) / "ai.log") as url:
        for name, frame_jobs in jobs.items():
            figures = asyncio.run(score(url, frame_jobs))
            print(
                f"{name:20s} ({len(frame_jobs)} frames): "
                + ", ".join(f"{k} {v:.1%}" for k, v in figures.items())
            )


if __name__ == "__main__":
    main()
