"""The served SER model over HTTP on real clips of every training corpus, as browsers send them.

The clips are those of the speakers held out for selection (``train_ser.HELD_OUT``: RAVDESS actors 15-18,
CREMA-D actors 1064-1075, TESS OAF); the served members were fine-tuned with them at the end, so this checks
the served path, and the speaker-independent figures are the selection models' (docs/models.md). Each clip
is decoded and re-encoded to WebM/Opus (48 kHz stereo, as MediaRecorder produces). The accuracy floors sit
well under those figures and far above chance (1/8, 1/6, 1/7).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from ai_server.training.data_ser import DATA_DIR, corpus_files
from ai_server.training.train_ser import HELD_OUT

PER_CORPUS = 42  # clips per corpus, spread evenly over its held-out speakers and emotions
FLOORS = {"ravdess": 0.45, "crema-d": 0.4, "tess": 0.55}


def held_out_clips(corpus: str) -> list[tuple[Path, str]]:
    files = [
        (p, label) for p, speaker, label in corpus_files(corpus, DATA_DIR) if speaker in HELD_OUT[corpus]
    ]
    step = max(1, len(files) // PER_CORPUS)
    return files[::step][:PER_CORPUS]


def overall(client: httpx.Client, path: Path) -> dict:
    webm = encode_audio(decode_audio(path.read_bytes()), SAMPLE_RATE, "webm")
    r = client.post("/v1/voice", files={"audio": ("answer.webm", webm, "audio/webm")})
    assert r.status_code == 200, r.text
    return r.json()["overall"]


@pytest.mark.parametrize("corpus", list(FLOORS))
def test_held_out_speakers_of_every_corpus(ai_client: httpx.Client, corpus: str) -> None:
    clips = held_out_clips(corpus)
    assert len(clips) == PER_CORPUS and len({label for _, label in clips}) >= 6
    hits = 0
    for path, label in clips:
        result = overall(ai_client, path)
        predicted = result["emotion"]
        if corpus != "ravdess" and predicted == "calm":  # CREMA-D and TESS have no calm
            predicted = "neutral"
        hits += predicted == label
        assert isinstance(result["uncertain"], bool)
    assert hits / len(clips) >= FLOORS[corpus], f"{corpus}: {hits}/{len(clips)}"


def test_calibrated_confidence_and_uncertain_flag(ai_client: httpx.Client) -> None:
    """Scores are temperature-scaled probabilities; low-confidence answers say so and why."""
    models = {m["name"]: m for m in ai_client.get("/v1/models").json()}
    threshold = models["ser"]["uncertain_below"]
    assert models["ser"]["temperature"] > 0 and 0 < threshold < 1
    results = [overall(ai_client, p) for p, _ in held_out_clips("crema-d")[:12]]
    for r in results:
        assert r["uncertain"] == (r["confidence"] < threshold)
        assert r["uncertain_reason"] == ("low confidence" if r["uncertain"] else None)
