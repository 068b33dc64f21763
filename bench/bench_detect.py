"""Face detection benchmark: how many faces the AI server reports on webcam frames, and what it costs.

    .venv/bin/python bench/bench_detect.py [--single 400] [--pairs 100] [--plain 200] [--seed 7]

Frames come from ``tests.support.frames`` (real FER2013/RAF-DB faces pasted on plain or cluttered textured
640x480 backgrounds, JPEG quality 90). Each frame goes through the server's own path: ``decode_image``
(reduced decode) -> ``find_face_crops`` with the AI server's default settings, with verification off (plain
Haar, "before"), on without the alt2 whole-frame fallback, and on with it (the default, "after"). Prints the
share of frames with no / one / several faces, the share where the faces found are exactly the real ones, and
the mean and p95 milliseconds per frame (decode + detect, one thread). Seeds 100 and 101 were used for tuning;
report another one.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai_server.config import Settings  # noqa: E402
from ai_server.vision.decode import decode_image  # noqa: E402
from ai_server.vision.detect import DetectParams, find_face_crops  # noqa: E402
from tests.support import frames as F  # noqa: E402


def server_params() -> DetectParams:
    return DetectParams.from_settings(Settings())


def measure(frames: list[F.Frame], params: DetectParams) -> dict:
    s = Settings()
    counts = [0, 0, 0]
    right = 0
    times = []
    for frame in frames:
        data = frame.jpeg()
        t0 = time.perf_counter()
        image, reduction = decode_image(data, s.max_image_bytes, s.max_image_pixels, params.max_side)
        boxes, _ = find_face_crops(image, True, params, scale=reduction)
        times.append(time.perf_counter() - t0)
        counts[min(len(boxes), 2)] += 1
        right += len(boxes) == len(frame.boxes) and all(
            max(F.iou(b.as_list(), t) for b in boxes) > 0.3 for t in frame.boxes
        )
    n = len(frames)
    ms = np.array(times) * 1000
    return {"none": counts[0] / n, "one": counts[1] / n, "several": counts[2] / n, "right": right / n,
            "ms": float(ms.mean()), "p95": float(np.percentile(ms, 95))}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", type=int, default=400, help="single-person textured frames")
    ap.add_argument("--pairs", type=int, default=100, help="two-person textured frames")
    ap.add_argument("--plain", type=int, default=200, help="single-person plain frames")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sets = {
        "1 person, plain": F.single_person_frames(args.plain, args.seed, textured=False),
        "1 person, textured": F.single_person_frames(args.single, args.seed),
        "2 people, textured": F.two_person_frames(args.pairs, args.seed),
    }
    after = server_params()
    before = dataclasses.replace(after, verify=False)
    no_fallback = dataclasses.replace(after, fallback=False)
    print("| frames | detector | none | one | several | right faces | ms/frame (p95) |")
    print("|---|---|---|---|---|---|---|")
    for name, frames in sets.items():
        runs = (
            ("Haar (before)", before),
            ("Haar + verify", no_fallback),
            ("Haar + verify + alt2 pass", after),
        )
        for label, params in runs:
            measure(frames[:10], params)  # warm-up: cascades loaded, caches filled
            r = measure(frames, params)
            print(
                f"| {name} ({len(frames)}) | {label} | {r['none']:.1%} | {r['one']:.1%} | {r['several']:.1%} "
                f"| {r['right']:.1%} | {r['ms']:.1f} ({r['p95']:.1f}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
