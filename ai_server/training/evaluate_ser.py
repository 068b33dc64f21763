"""Score a SER model through the real service: ``overall`` of ``POST /v1/voice`` on RAVDESS actors.

Starts a uvicorn AI server with ``--model`` (its ``.json`` metadata beside it; default the served model) and
posts every clip of ``--actors`` as the original file and re-encoded to ``--formats`` (48 kHz stereo)::

    .venv/bin/python -m ai_server.training.evaluate_ser \\
        --model /tmp/fasel-ser-runs/cv_siaser_e40_fold1.keras --actors 2,5,8,11,14,17 --formats webm

With a cross-validation fold model (its CV result JSON beside it gives the representation; the rest of the
metadata comes from the served ``ser.json``) and its held-out actors, this reproduces the fold's CV figure.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from ai_server.config import MODELS_DIR
from ai_server.training.data_ser import DEFAULT_RAVDESS, parse_ravdess_name


def servable_copy(model: Path, folder: Path) -> Path:
    """``model`` in ``folder`` with service metadata beside it (a CV fold model has only its result JSON)."""
    meta = json.loads((MODELS_DIR / "ser.json").read_text())
    own = model.with_suffix(".json")
    if own.exists():
        info = json.loads(own.read_text())
        meta = (
            info if "labels" in info else {**meta, "representation": info["representation"], "version": "cv"}
        )
    shutil.copy(model, folder / "ser.keras")
    (folder / "ser.json").write_text(json.dumps(meta))
    return folder / "ser.keras"


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
    parser.add_argument("--actors", default=",".join(str(a) for a in range(1, 19)))
    parser.add_argument(
        "--formats", default="webm", help="comma-separated, from ai_server.audio.encode.FORMATS"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_RAVDESS)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    actors = {int(a) for a in args.actors.split(",")}
    formats = [f for f in args.formats.split(",") if f]
    files = [f for f in sorted(args.data.glob("Actor_*/*.flac")) if parse_ravdess_name(f)[0] in actors]
    tmp = tempfile.TemporaryDirectory()
    proc = start_server(servable_copy(args.model.resolve(), Path(tmp.name)), args.port)
    hits = dict.fromkeys(["original", *formats], 0)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=60) as client:
            for path in files:
                label = parse_ravdess_name(path)[1]
                data = path.read_bytes()
                uploads = {"original": data}
                for fmt in formats:
                    uploads[fmt] = encode_audio(decode_audio(data), SAMPLE_RATE, fmt)
                for name, upload in uploads.items():
                    r = client.post("/v1/voice", files={"audio": (f"clip.{name}", upload)})
                    r.raise_for_status()
                    hits[name] += (r.json()["overall"] or {}).get("emotion") == label
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        tmp.cleanup()
    print(f"{len(files)} clips of actors {sorted(actors)}, model {args.model}")
    for name, n in hits.items():
        print(f"  {name}: overall accuracy {n / max(len(files), 1):.4f}")


if __name__ == "__main__":
    main()
