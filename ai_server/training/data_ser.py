"""RAVDESS speech for SER training: decoded with the serving path, augmented, mel dB cached under /tmp.

Each clip is read as bytes and goes through ``load_speech`` (PyAV decode, mono 16 kHz, silence trim), exactly
as an upload does. Waveform augmentations are precomputed once per clip (fixed seed) and stored as mel dB:
``orig``, speed 0.9 and 1.1 (tempo + pitch), pitch shift +-1..2.5 semitones (tempo kept), and
gain + additive noise at 10-30 dB SNR. Time shift and SpecAugment are applied per batch in ``train_ser``.
"""

import pickle
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from scipy.signal import resample_poly

from ai_server.audio.decode import SAMPLE_RATE, Speech, load_speech
from ai_server.audio.features import mel_db

LABELS = ("angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise")
RAVDESS_CODES = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
DEFAULT_RAVDESS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ravdess"
CACHE_DIR = Path("/tmp/fasel-ser-cache")
CACHE_VERSION = 2
VARIANTS = ("orig", "speed0.9", "speed1.1", "pitch", "noise")


@dataclass
class Clip:
    path: str
    actor: int
    label: int
    speech: Speech  # the served preprocessing of the original file
    mels: dict[str, np.ndarray]  # variant -> mel dB (float16)


def parse_ravdess_name(path: Path) -> tuple[int, str]:
    """``03-01-EE-II-SS-RR-NN.flac`` -> (actor, label)."""
    parts = path.stem.split("-")
    return int(parts[6]), RAVDESS_CODES[parts[2]]


def augment_variants(samples: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The waveform variants of one clip."""
    semitones = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.5))
    gain = 10 ** (rng.uniform(-12.0, 6.0) / 20.0)
    loud = gain * samples
    power = float(np.mean(np.square(loud))) + 1e-12
    snr_db = rng.uniform(10.0, 30.0)
    noise = rng.standard_normal(samples.size).astype(np.float32)
    if rng.random() < 0.5:  # pink-ish: integrate white noise, remove drift
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(801) / 801, mode="same")
        noise /= np.std(noise) + 1e-9
    noise *= np.sqrt(power / 10 ** (snr_db / 10.0))
    return {
        "orig": samples,
        "speed0.9": resample_poly(samples, 10, 9).astype(np.float32),  # slower, lower
        "speed1.1": resample_poly(samples, 9, 10).astype(np.float32),
        "pitch": librosa.effects.pitch_shift(samples, sr=SAMPLE_RATE, n_steps=semitones).astype(np.float32),
        "noise": np.clip(loud + noise, -1.0, 1.0).astype(np.float32),
    }


def load_ravdess_ser(data_dir: Path = DEFAULT_RAVDESS, seed: int = 1234) -> list[Clip]:
    """All clips of actors 1-18 with their variants' mel dB; cached in ``CACHE_DIR``."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"ravdess_v{CACHE_VERSION}_seed{seed}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    rng = np.random.default_rng(seed)
    clips = []
    for path in sorted(data_dir.glob("Actor_*/*.flac")):
        actor, label = parse_ravdess_name(path)
        speech = load_speech(path.read_bytes())
        variants = augment_variants(speech.samples, rng)
        mels = {name: mel_db(wave).astype(np.float16) for name, wave in variants.items()}
        clips.append(Clip(str(path), actor, LABELS.index(label), speech, mels))
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(clips, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.rename(cache)
    return clips
