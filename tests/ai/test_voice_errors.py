"""Every kind of bad input to ``POST /v1/voice`` gets a clear 4xx, and the server keeps serving."""

from __future__ import annotations

import io
import wave

import httpx
import numpy as np
import pytest

from ai_server.audio.decode import SAMPLE_RATE, decode_audio
from ai_server.audio.encode import encode_audio
from ai_server.config import Settings
from tests.ai.test_voice import CLIP, post_voice
from tests.support.assertions import assert_clear_error
from tests.support.media import one_face

SPEECH = decode_audio(CLIP.read_bytes())
MP4 = encode_audio(SPEECH, SAMPLE_RATE, "mp4")
MP3 = encode_audio(SPEECH, SAMPLE_RATE, "mp3")
WEBM = encode_audio(SPEECH, SAMPLE_RATE, "webm")
NOISE = np.random.default_rng(0).integers(0, 256, 30_000, dtype=np.uint8).tobytes()


def damaged(data: bytes) -> bytes:
    """The file with bytes 20%-40% replaced by random bytes (header and index intact)."""
    a, b = len(data) // 5, 2 * len(data) // 5
    return data[:a] + NOISE[: b - a] + data[b:]


def long_wav(seconds: float) -> bytes:
    """A valid 16 kHz mono 16-bit WAV of quiet speech-free noise, ``seconds`` long."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(np.zeros(int(seconds * SAMPLE_RATE), np.int16).tobytes())
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 422, ["empty"]),
        (b"this is plain text, not a recording at all", 415, ["not a WebM"]),
        (one_face(), 415, ["no audio stream"]),
        (b"%PDF-1.4\n" + b"0" * 5000, 415, ["could not be opened"]),
        (WEBM[:300], 415, ["could not be opened"]),
        (WEBM[:200] + NOISE, 415, ["header is damaged"]),
        (MP4[: len(MP4) // 2], 415, []),
        (damaged(MP4), 415, ["corrupt"]),
        (damaged(MP3), 415, ["corrupt"]),
    ],
    ids=[
        "zero-bytes",
        "text",
        "jpeg-image",
        "pdf",
        "webm-header-only",
        "webm-header-then-garbage",
        "truncated-mp4",
        "corrupt-aac-stream",
        "corrupt-mp3-stream",
    ],
)
def test_bad_audio_gets_a_clear_4xx(
    ai_client: httpx.Client, data: bytes, status: int, words: list[str]
) -> None:
    assert_clear_error(post_voice(ai_client, data), status, *words)


def test_longer_than_the_duration_limit_is_413(ai_client: httpx.Client) -> None:
    limit = Settings().max_audio_seconds
    assert_clear_error(post_voice(ai_client, long_wav(limit + 5), "wav"), 413, "longer than", f"{limit:g} s")
    ok = post_voice(ai_client, long_wav(limit), "wav")
    assert ok.status_code == 200 and ok.json()["overall"] is None


def test_over_the_size_limit_is_413(ai_client: httpx.Client) -> None:
    too_big = WEBM + b"\x00" * (Settings().max_audio_bytes + 1)
    assert_clear_error(post_voice(ai_client, too_big), 413, "too large")


def test_missing_audio_field_is_422(ai_client: httpx.Client) -> None:
    assert_clear_error(ai_client.post("/v1/voice", files={"sound": ("a.webm", WEBM)}), 422, "audio")
    assert_clear_error(ai_client.post("/v1/voice"), 422, "audio")


def test_server_still_serves_after_bad_input(ai_client: httpx.Client) -> None:
    r = post_voice(ai_client, WEBM)
    assert r.status_code == 200 and r.json()["overall"] is not None
