"""Speech corpora for SER training, decoded with the serving path, augmented, mel dB cached under /tmp.

Corpora (``../shared/data``): RAVDESS actors 1-18 (FLAC), CREMA-D actors 1001-1075 and TESS's two speakers
(16 kHz Ogg/Opus). Each clip is read as bytes and goes through ``load_speech`` (PyAV decode, mono 16 kHz,
silence trim), exactly as an upload does. Waveform augmentations for real rooms and microphones are
precomputed once per clip (fixed seed) and stored as mel dB:

- ``orig``; ``speed0.9`` / ``speed1.1`` (tempo and pitch together);
- ``noise``: gain -12..+6 dB and white or pink noise at 5-30 dB SNR;
- ``reverb``: a synthetic room (exponentially decaying noise, RT60 0.15-0.9 s) mixed with the dry signal;
- ``opus``: an Opus round trip at 6-16 kbit/s (a poor connection or a cheap recorder).

Microphone colour (a random smooth EQ curve), time shift and SpecAugment are applied per batch in
``train_ser``.
"""

import pickle
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve, resample_poly

from ai_server.audio.decode import SAMPLE_RATE, decode_audio, load_speech, trim_silence
from ai_server.audio.encode import encode_audio
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
CREMA_CODES = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CORPORA = ("ravdess", "crema-d", "tess")
CACHE_DIR = Path("/tmp/fasel-ser-cache")
CACHE_VERSION = 3
VARIANTS = ("orig", "speed0.9", "speed1.1", "noise", "reverb", "opus")


@dataclass
class Clip:
    path: str
    corpus: str
    speaker: str
    label: int
    mels: dict[str, np.ndarray]  # variant -> mel dB (float16)


def parse_ravdess_name(path: Path) -> tuple[int, str]:
    """``03-01-EE-II-SS-RR-NN.flac`` -> (actor, label)."""
    parts = path.stem.split("-")
    return int(parts[6]), RAVDESS_CODES[parts[2]]


def corpus_files(corpus: str, data_dir: Path = DATA_DIR) -> list[tuple[Path, str, str]]:
    """``(path, speaker, label)`` of every clip of ``corpus``; speakers are named ``corpus:id``."""
    root = data_dir / corpus
    if corpus == "ravdess":
        out = []
        for p in sorted(root.glob("Actor_*/*.flac")):
            actor, label = parse_ravdess_name(p)
            out.append((p, f"ravdess:{actor}", label))
        return out
    if corpus == "crema-d":
        return [
            (p, f"crema-d:{p.parent.name}", CREMA_CODES[p.stem.split("_")[2]])
            for p in sorted(root.glob("*/*.ogg"))
        ]
    if corpus == "tess":
        return [
            (p, f"tess:{p.parent.name.split('_')[0]}", p.parent.name.split("_", 1)[1])
            for p in sorted(root.glob("*/*.ogg"))
        ]
    raise ValueError(f"unknown corpus {corpus!r}")


def pinkish(white: np.ndarray) -> np.ndarray:
    """White noise integrated, its drift removed: power falling with frequency."""
    noise = np.cumsum(white)
    return noise - np.convolve(noise, np.ones(801) / 801, mode="same")


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(n).astype(np.float32)
    if rng.random() < 0.5:
        noise = pinkish(noise)
    return noise / (np.std(noise) + 1e-9)


def _reverb(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.9)
    t = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
    rir = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60)
    rir[0] = 0.0
    rir *= rng.uniform(0.3, 1.0) / (np.sqrt(np.sum(rir**2)) + 1e-9)
    wet = samples + fftconvolve(samples, rir)[: samples.size]
    return (wet / (np.max(np.abs(wet)) + 1e-9) * np.max(np.abs(samples))).astype(np.float32)


def _opus(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kbps = int(rng.choice([6, 8, 12, 16]))
    data = encode_audio(samples, SAMPLE_RATE, "ogg", out_rate=SAMPLE_RATE, channels=1, bit_rate=kbps * 1000)
    decoded, _ = trim_silence(decode_audio(data))
    return decoded if decoded.size else samples


def augment_variants(samples: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The waveform variants of one clip (see the module docstring)."""
    loud = samples * 10 ** (rng.uniform(-12.0, 6.0) / 20.0)
    power = float(np.mean(np.square(loud))) + 1e-12
    noise = _noise(samples.size, rng) * np.sqrt(power / 10 ** (rng.uniform(5.0, 30.0) / 10.0))
    return {
        "orig": samples,
        "speed0.9": resample_poly(samples, 10, 9).astype(np.float32),  # slower, lower
        "speed1.1": resample_poly(samples, 9, 10).astype(np.float32),
        "noise": np.clip(loud + noise, -1.0, 1.0).astype(np.float32),
        "reverb": _reverb(samples, rng),
        "opus": _opus(samples, rng),
    }


def _load_clip(job: tuple[int, str, str, str, str, int]) -> Clip | None:
    index, path, corpus, speaker, label, seed = job
    speech = load_speech(Path(path).read_bytes())
    if speech.speech_s < 0.3:
        return None
    rng = np.random.default_rng([seed, index])
    mels = {name: mel_db(w).astype(np.float16) for name, w in augment_variants(speech.samples, rng).items()}
    return Clip(path, corpus, speaker, LABELS.index(label), mels)


def load_corpus(corpus: str, seed: int = 1234, processes: int = 2) -> list[Clip]:
    """Every clip of ``corpus`` with its variants' mel dB; cached in ``CACHE_DIR``."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"{corpus}_v{CACHE_VERSION}_seed{seed}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    jobs = [(i, str(p), corpus, spk, lab, seed) for i, (p, spk, lab) in enumerate(corpus_files(corpus))]
    with Pool(processes) as pool:
        clips = [c for c in pool.imap(_load_clip, jobs, chunksize=16) if c is not None]
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(clips, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.rename(cache)
    return clips


def load_ser_corpora(corpora: tuple[str, ...] = CORPORA) -> list[Clip]:
    return [clip for corpus in corpora for clip in load_corpus(corpus)]
