"""Score a SER model through the real service: ``overall`` of ``POST /v1/voice`` on held-out speakers.

Starts a uvicorn AI server with ``--model`` (its ``.json`` metadata beside it; default the served model) and
posts every clip of the held-out speakers of ``--corpora`` (``train_ser.HELD_OUT``) as the original file and
re-encoded to ``--formats`` (48 kHz stereo, as browsers record); on corpora without ``calm``, ``calm`` counts
as ``neutral``::

    .venv/bin/python -m ai_server.training.evaluate_ser --corpora ravdess,crema-d --formats webm

This reproduces the held-out figures of ``ser_metrics.json`` through HTTP and browser codecs.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from ai_server.config import MODELS_DIR
from ai_server.training.data_ser import CORPORA, corpus_files
from ai_server.training.train_ser import HELD_OUT


def start_server(model: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "AI_SER_MODEL_PATH": str(model), "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "ai_server.main:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[2], env=env)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the AI server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=MODELS_DIR / "ser.keras")
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument(
        "--formats", default="webm", help="comma-separated, from ai_server.audio.encode.FORMATS"
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    proc = start_server(args.model.resolve(), args.port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=60) as client:
            for corpus in args.corpora.split(","):
                files = [(p, lab) for p, spk, lab in corpus_files(corpus) if spk in HELD_OUT[corpus]]
                hits = dict.fromkeys(["original", *formats], 0)
                for path, label in files:
                    data = path.read_bytes()
                    uploads = {"original": data}
                    for fmt in formats:
                        uploads[fmt] = encode_audio(decode_audio(data), SAMPLE_RATE, fmt)
                    for name, upload in uploads.items():
                        r = client.post("/v1/voice", files={"audio": (f"clip.{name}", upload)})
                        r.raise_for_status()
                        emotion = (r.json()["overall"] or {}).get("emotion")
                        if corpus != "ravdess" and emotion == "calm":
                            emotion = "neutral"
                        hits[name] += emotion == label
                print(f"{corpus}: {len(files)} clips of {sorted(HELD_OUT[corpus])}, model {args.model}")
                for name, n in hits.items():
                    print(f"  {name}: overall accuracy {n / max(len(files), 1):.4f}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
