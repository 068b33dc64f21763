"""Speech features shared by serving and training: mel spectrogram, windows, model inputs, aggregation.

A recording's trimmed speech is turned into one mel spectrogram (dB); windows are frame ranges of it
(``WINDOW_S`` long, 50% overlap, the last one aligned to the end so the tail is covered). Each window becomes
a fixed-size model input in one of three representations (the served SER 2.x uses ``logmel``):

- ``siaser``: the FASEL thesis's SIASER image: mel dB min-max scaled to 8-bit pixels, flipped so low
  frequencies are at the bottom, inverted (loud = dark), padded to the fixed width with white, 3 channels.
- ``logmel``: the mel dB patch standardised per window (zero mean, unit variance over its speech frames),
  padded with its minimum, 1 channel (trained with SpecAugment).
- ``logmel_abs``: the mel dB patch on a fixed scale (keeps the loudness, which carries emotion but also
  depends on the microphone), padded with the floor, 1 channel (trained with SpecAugment and random gain).
"""

from dataclasses import dataclass

import librosa
import numpy as np

from ai_server.audio.decode import SAMPLE_RATE, Speech

N_MELS = 64
N_FFT = 1024
WIN_LENGTH = 640  # 40 ms
HOP_LENGTH = 320  # 20 ms
FMIN, FMAX = 50.0, 8000.0
TOP_DB = 80.0  # dynamic range kept below each window's loudest bin
WINDOW_S = 2.0
WINDOW_FRAMES = int(round(WINDOW_S * SAMPLE_RATE / HOP_LENGTH))  # 100
WINDOW_HOP_FRAMES = WINDOW_FRAMES // 2
MIN_SPEECH_S = 0.3
REPRESENTATIONS = ("siaser", "logmel", "logmel_abs")
ABS_FLOOR_DB = -90.0  # logmel_abs: fixed floor and scale of the dB values
ABS_CENTER_DB, ABS_SCALE_DB = -45.0, 20.0

_MEL_BASIS = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)


def mel_db(samples: np.ndarray) -> np.ndarray:
    """Mel power spectrogram in dB (absolute, ref 1.0), shape ``(N_MELS, frames)``, frame i at i*HOP."""
    spec = librosa.stft(
        samples.astype(np.float32, copy=False),
        n_fft=N_FFT,
        hop_length=HOP_LENGTH,
        win_length=WIN_LENGTH,
        center=True,
        pad_mode="constant",
    )
    power = np.abs(spec) ** 2
    mel = _MEL_BASIS @ power
    return (10.0 * np.log10(np.maximum(mel, 1e-10))).astype(np.float32)


def window_ranges(n_frames: int) -> list[tuple[int, int]]:
    """``[start, end)`` frame ranges: full windows at 50% overlap, the last aligned to the end."""
    if n_frames <= WINDOW_FRAMES:
        return [(0, n_frames)]
    starts = list(range(0, n_frames - WINDOW_FRAMES + 1, WINDOW_HOP_FRAMES))
    if starts[-1] + WINDOW_FRAMES < n_frames:
        starts.append(n_frames - WINDOW_FRAMES)
    return [(s, s + WINDOW_FRAMES) for s in starts]


def input_shape(representation: str) -> tuple[int, int, int]:
    return (N_MELS, WINDOW_FRAMES, 3 if representation == "siaser" else 1)


def window_input(db: np.ndarray, representation: str, left_pad: int = 0) -> np.ndarray:
    """One model input from a window's dB frames (at most ``WINDOW_FRAMES`` of them).

    ``left_pad`` shifts the speech right inside the fixed width (training's time-shift augmentation).
    """
    n = db.shape[1]
    if n > WINDOW_FRAMES or left_pad + n > WINDOW_FRAMES:
        raise ValueError("window wider than the model input")
    clipped = np.maximum(db, db.max() - TOP_DB)
    right_pad = WINDOW_FRAMES - n - left_pad
    if representation == "siaser":
        lo, hi = float(clipped.min()), float(clipped.max())
        pixels = np.round((clipped - lo) / max(hi - lo, 1e-6) * 255.0)
        image = 255.0 - pixels[::-1, :]  # low frequencies at the bottom, loud = dark
        image = np.pad(image, ((0, 0), (left_pad, right_pad)), constant_values=255.0)
        return np.repeat(image[:, :, None], 3, axis=2).astype(np.float32)
    if representation == "logmel":
        patch = (clipped - clipped.mean()) / max(float(clipped.std()), 1e-3)
        patch = np.pad(patch, ((0, 0), (left_pad, right_pad)), constant_values=float(patch.min()))
        return patch[:, :, None].astype(np.float32)
    if representation == "logmel_abs":
        patch = (np.maximum(db, ABS_FLOOR_DB) - ABS_CENTER_DB) / ABS_SCALE_DB
        floor = (ABS_FLOOR_DB - ABS_CENTER_DB) / ABS_SCALE_DB
        patch = np.pad(patch, ((0, 0), (left_pad, right_pad)), constant_values=floor)
        return patch[:, :, None].astype(np.float32)
    raise ValueError(f"unknown representation {representation!r}")


@dataclass(frozen=True)
class Windows:
    """Model inputs of one recording with their times (seconds from the start as received) and weights."""

    inputs: np.ndarray  # (n, *input_shape)
    starts_s: list[float]
    ends_s: list[float]
    weights: np.ndarray  # (n,) seconds of speech x RMS level, for the overall aggregation


def speech_windows(speech: Speech, representation: str) -> Windows:
    """All windows of a trimmed recording (empty when it has less than ``MIN_SPEECH_S`` of speech)."""
    if speech.speech_s < MIN_SPEECH_S:
        return Windows(np.zeros((0, *input_shape(representation)), np.float32), [], [], np.zeros(0))
    db = mel_db(speech.samples)
    frame_s = HOP_LENGTH / speech.sample_rate
    inputs, starts, ends, weights = [], [], [], []
    for start, end in window_ranges(db.shape[1]):
        inputs.append(window_input(db[:, start:end], representation))
        t0 = start * frame_s
        t1 = min(end * frame_s, speech.speech_s)
        chunk = speech.samples[int(t0 * speech.sample_rate) : int(t1 * speech.sample_rate)]
        rms = float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64)))) if chunk.size else 0.0
        starts.append(round(speech.offset_s + t0, 3))
        ends.append(round(speech.offset_s + t1, 3))
        weights.append(max(t1 - t0, 0.0) * max(rms, 1e-6))
    return Windows(np.stack(inputs), starts, ends, np.asarray(weights, np.float64))


def aggregate(probs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Overall class probabilities: window probabilities averaged with the windows' weights."""
    w = np.asarray(weights, np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(probs), 1.0 / len(probs))
    return (np.asarray(probs, np.float64) * w[:, None]).sum(axis=0)
