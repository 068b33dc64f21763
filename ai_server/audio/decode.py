"""Decode an uploaded recording in-process with PyAV: mono float32 at the model's rate, silence trimmed.

The one audio preprocessing path: ``train_ser.py`` decodes its corpora through the same functions, so
training and serving see the same signal.
"""

import io
from dataclasses import dataclass

import av
import numpy as np

from ai_server.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

SAMPLE_RATE = 16_000
TRIM_FRAME_S = 0.025
TRIM_HOP_S = 0.010
TRIM_TOP_DB = 35.0  # frames more than this below the loudest frame count as silence
TRIM_SMOOTH_FRAMES = 5  # levels are averaged over 50 ms so clicks and codec edges do not count as speech
SILENCE_FLOOR_DBFS = -65.0  # frames quieter than this are silence whatever the loudest frame is
TRIM_MARGIN_S = 0.05


class EmptyAudio(InvalidInput):
    """Zero bytes uploaded."""


class NotAudio(UnsupportedMedia):
    """Not a container/codec FFmpeg knows, or a file without an audio stream."""


class CorruptAudio(UnsupportedMedia):
    """A known format whose stream cannot be decoded."""


class AudioTooLong(PayloadTooLarge):
    """Longer than the duration limit."""


@dataclass(frozen=True)
class Speech:
    """Trimmed speech: ``samples`` start ``offset_s`` seconds into a recording ``duration_s`` long."""

    samples: np.ndarray
    sample_rate: int
    offset_s: float
    duration_s: float

    @property
    def speech_s(self) -> float:
        return len(self.samples) / self.sample_rate


def decode_audio(data: bytes, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = 600.0) -> np.ndarray:
    """Decode any FFmpeg-readable audio (WebM/Opus, Ogg, MP4/AAC, WAV, FLAC, MP3...) to mono float32.

    Raises ``EmptyAudio`` (422), ``NotAudio``/``CorruptAudio`` (415) or ``AudioTooLong`` (413).
    """
    if not data:
        raise EmptyAudio("The audio file is empty (0 bytes).")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise NotAudio(
            "The upload could not be opened as audio: it is not a WebM, Ogg, MP4, WAV, FLAC or MP3 file, "
            "or its header is damaged."
        ) from exc
    limit = int(max_seconds * sample_rate) + sample_rate // 2  # half a second of slack for codec padding
    too_long = AudioTooLong(f"The recording is longer than the limit of {max_seconds:g} s.")
    chunks: list[np.ndarray] = []
    total = 0
    with container:
        if not container.streams.audio:
            raise NotAudio("The file contains no audio stream.")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            if float(stream.duration * stream.time_base) > max_seconds + 0.5:
                raise too_long
        elif container.duration is not None and container.duration / av.time_base > max_seconds + 0.5:
            raise too_long
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > limit:
                    raise too_long
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise CorruptAudio(
                f"The audio stream is corrupt and cannot be decoded ({exc.strerror})."
            ) from exc
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise CorruptAudio("The file holds an audio stream but no audio could be decoded from it.")
    if samples.size > limit:
        raise too_long
    if not np.all(np.isfinite(samples)):
        raise CorruptAudio("The audio stream decoded to invalid sample values.")
    return samples


def frame_dbfs(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS level in dBFS of 25 ms frames every 10 ms."""
    frame, hop = int(TRIM_FRAME_S * sample_rate), int(TRIM_HOP_S * sample_rate)
    if samples.size < frame:
        samples = np.pad(samples, (0, frame - samples.size))
    n = 1 + (samples.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(np.square(samples[idx], dtype=np.float64), axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def trim_silence(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """Cut leading/trailing silence; returns the speech and its offset in seconds (empty if all silent)."""
    levels = frame_dbfs(samples, sample_rate)
    half = TRIM_SMOOTH_FRAMES // 2
    kernel = np.ones(TRIM_SMOOTH_FRAMES) / TRIM_SMOOTH_FRAMES
    levels = np.convolve(np.pad(levels, half, mode="edge"), kernel, mode="valid")
    threshold = max(float(levels.max()) - TRIM_TOP_DB, SILENCE_FLOOR_DBFS)
    loud = np.flatnonzero(levels >= threshold)
    if loud.size == 0:
        return samples[:0], 0.0
    hop, frame = int(TRIM_HOP_S * sample_rate), int(TRIM_FRAME_S * sample_rate)
    margin = int(TRIM_MARGIN_S * sample_rate)
    start = max(0, int(loud[0]) * hop - margin)
    end = min(samples.size, int(loud[-1]) * hop + frame + margin)
    return samples[start:end], start / sample_rate


def load_speech(data: bytes, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = 600.0) -> Speech:
    """Decode and trim: the whole preprocessing of a recording up to the features."""
    samples = decode_audio(data, sample_rate=sample_rate, max_seconds=max_seconds)
    speech, offset = trim_silence(samples, sample_rate)
    return Speech(speech, sample_rate, offset, samples.size / sample_rate)
