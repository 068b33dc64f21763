"""``POST /v1/voice`` on real RAVDESS speech re-encoded like browser recordings (48 kHz stereo)."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from ai_server.audio.decode import SAMPLE_RATE, decode_audio, trim_silence
from ai_server.audio.encode import encode_audio

ROOT = Path(__file__).resolve().parents[2]
RAVDESS = ROOT.parent / "shared" / "data" / "ravdess"
VOICE_LABELS = ["angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
FORMATS = {
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "mp4": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
}
# Angry, strong intensity, actor 3; the served model classifies it correctly in every format.
CLIP, CLIP_LABEL = RAVDESS / "Actor_03" / "03-01-05-02-01-01-03.flac", "angry"
LONG_CLIPS = [
    RAVDESS / "Actor_05" / "03-01-03-02-01-01-05.flac",
    RAVDESS / "Actor_08" / "03-01-04-01-02-01-08.flac",
    RAVDESS / "Actor_11" / "03-01-02-01-01-02-11.flac",
    RAVDESS / "Actor_14" / "03-01-08-02-02-01-14.flac",
]


def ravdess(path: Path) -> np.ndarray:
    return decode_audio(path.read_bytes())


def post_voice(client: httpx.Client, data: bytes, fmt: str = "webm") -> httpx.Response:
    return client.post("/v1/voice", files={"audio": (f"answer.{fmt}", data, FORMATS.get(fmt, "audio/webm"))})


def check_result(body: dict) -> None:
    assert body["model"].startswith("ser-")
    assert body["elapsed_ms"] > 0
    for part in [*body["segments"], body["overall"]]:
        assert list(part["scores"]) == VOICE_LABELS
        assert abs(sum(part["scores"].values()) - 1) < 0.01
        assert part["emotion"] == max(part["scores"], key=part["scores"].get)
        assert part["confidence"] == part["scores"][part["emotion"]]
        assert isinstance(part["uncertain"], bool)


@pytest.fixture(scope="module")
def clip_answers(ai_client: httpx.Client) -> dict[str, dict]:
    samples = ravdess(CLIP)
    answers = {}
    for fmt in FORMATS:
        r = post_voice(ai_client, encode_audio(samples, SAMPLE_RATE, fmt), fmt)
        assert r.status_code == 200, (fmt, r.text)
        answers[fmt] = r.json()
    return answers


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_browser_format_gets_the_right_overall_emotion(clip_answers: dict[str, dict], fmt: str) -> None:
    body = clip_answers[fmt]
    check_result(body)
    assert body["overall"]["emotion"] == CLIP_LABEL, body["overall"]
    assert abs(body["duration_s"] - len(ravdess(CLIP)) / SAMPLE_RATE) < 0.1


def test_formats_agree_on_scores_and_timeline(clip_answers: dict[str, dict]) -> None:
    wav = clip_answers["wav"]
    for fmt, body in clip_answers.items():
        assert len(body["segments"]) == len(wav["segments"]), fmt
        for a, b in zip(body["segments"], wav["segments"], strict=True):
            assert abs(a["start_s"] - b["start_s"]) < 0.3 and abs(a["end_s"] - b["end_s"]) < 0.3, fmt
        diff = max(abs(body["overall"]["scores"][k] - wav["overall"]["scores"][k]) for k in VOICE_LABELS)
        assert diff < 0.25, (fmt, body["overall"], wav["overall"])


def test_segment_times_are_seconds_from_the_start_of_the_recording(ai_client: httpx.Client) -> None:
    """Leading silence is trimmed for the analysis, but times still count from the start as received."""
    samples = ravdess(CLIP)
    _, offset = trim_silence(samples)
    padded = np.concatenate([np.zeros(3 * SAMPLE_RATE, np.float32), samples])
    plain = post_voice(ai_client, encode_audio(samples, SAMPLE_RATE, "wav"), "wav").json()
    later = post_voice(ai_client, encode_audio(padded, SAMPLE_RATE, "wav"), "wav").json()
    assert plain["segments"][0]["start_s"] == pytest.approx(offset, abs=0.05)
    assert later["duration_s"] == pytest.approx(plain["duration_s"] + 3, abs=0.01)
    for a, b in zip(plain["segments"], later["segments"], strict=True):
        assert b["start_s"] == pytest.approx(a["start_s"] + 3, abs=0.02)
        assert b["end_s"] == pytest.approx(a["end_s"] + 3, abs=0.02)
    assert later["overall"]["emotion"] == plain["overall"]["emotion"]


@pytest.mark.parametrize("fmt", ["webm", "mp4"])
def test_timeline_covers_a_long_answer(ai_client: httpx.Client, fmt: str) -> None:
    samples = np.concatenate([ravdess(p) for p in LONG_CLIPS])  # ~15 s with the pauses between sentences
    speech, offset = trim_silence(samples)
    r = post_voice(ai_client, encode_audio(samples, SAMPLE_RATE, fmt), fmt)
    assert r.status_code == 200, r.text
    body = r.json()
    check_result(body)
    segments = body["segments"]
    assert len(segments) >= 8
    assert segments[0]["start_s"] == pytest.approx(offset, abs=0.25)
    assert segments[-1]["end_s"] == pytest.approx(offset + len(speech) / SAMPLE_RATE, abs=0.25)
    assert segments[-1]["end_s"] <= body["duration_s"]
    for prev, seg in zip(segments, segments[1:], strict=False):
        assert prev["start_s"] < seg["start_s"] <= prev["end_s"], "gap or disorder in the timeline"
        assert 0 < seg["end_s"] - seg["start_s"] <= 2.0 + 1e-6
    assert body["duration_s"] == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.1)


def test_silence_gives_no_segments_and_a_note(ai_client: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 10 ** (-75 / 20), 4 * SAMPLE_RATE).astype(np.float32)  # -75 dBFS room noise
    for samples in (np.zeros(4 * SAMPLE_RATE, np.float32), hiss):
        r = post_voice(ai_client, encode_audio(samples, SAMPLE_RATE, "webm"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["segments"] == [] and body["overall"] is None
        assert "silent" in body["note"]
        assert body["duration_s"] == pytest.approx(4.0, abs=0.05)


def test_too_short_speech_gives_no_segments_and_a_note(ai_client: httpx.Client) -> None:
    samples = ravdess(CLIP)
    speech, offset = trim_silence(samples)
    blip = speech[int(0.3 * SAMPLE_RATE) : int(0.4 * SAMPLE_RATE)]  # 0.1 s of a loud syllable
    recording = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), blip, np.zeros(SAMPLE_RATE, np.float32)])
    r = post_voice(ai_client, encode_audio(recording, SAMPLE_RATE, "wav"), "wav")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["segments"] == [] and body["overall"] is None
    assert "Too little speech" in body["note"]


def test_models_lists_the_voice_model(ai_client: httpx.Client) -> None:
    models = {m["name"]: m for m in ai_client.get("/v1/models").json()}
    ser = models["ser"]
    assert ser["kind"] == "voice"
    assert ser["labels"] == VOICE_LABELS
    assert len(ser["input_size"]) == 3
    assert 0.4 <= ser["val_accuracy"] <= 1  # 8 classes: chance is 0.125
    for corpus in ("RAVDESS", "CREMA-D", "TESS"):
        assert corpus in ser["training_data"]
    assert "non-commercial" in ser["licence"]
    assert ser["version"]
