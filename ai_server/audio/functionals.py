"""Utterance-level acoustic functionals and the linear classifier the served SER fuses with its CNNs.

The CNNs read 2 s windows of log-mel; the functionals (openSMILE's ComParE 2016 set: 6,373 statistics of
pitch, energy, voice quality, spectral and cepstral descriptors over the whole trimmed answer) read the
prosody of the answer as a whole, and a linear classifier on them is right on other speakers where the
windows are not. openSMILE is free for non-commercial use only (audEERING's research licence, like the
served weights); without it installed, or with ``AI_SER_FUNCTIONALS=false``, the CNNs answer alone.

openSMILE corrupts the heap of a process that has loaded TensorFlow: call ``functionals`` only in processes
without it (the service: ``concurrency.run_in_process``; training: spawned workers).
"""

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai_server.audio.decode import SAMPLE_RATE

log = logging.getLogger(__name__)
FEATURE_SET = "ComParE_2016"


def available() -> bool:
    return importlib.util.find_spec("opensmile") is not None


@functools.cache
def _extractor():
    import opensmile

    level = opensmile.FeatureLevel.Functionals
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, FEATURE_SET), feature_level=level)


def functionals(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The ComParE 2016 functionals of a trimmed answer, ``(6373,)`` float32 (blocking, ~20 ms per second of
    speech plus 40 ms on one core)."""
    row = _extractor().process_signal(samples.astype(np.float32, copy=False), sample_rate).to_numpy()[0]
    return np.nan_to_num(row.astype(np.float32))


@dataclass(frozen=True)
class LinearHead:
    """Standardisation and a multinomial logistic regression, as arrays (no scikit-learn at serve time)."""

    mean: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)

    def probs(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of one feature row ``(features,)`` or of rows ``(n, features)``."""
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def save(self, path: Path) -> None:
        arrays = {k: v.astype(np.float32) for k, v in vars(self).items()}
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> "LinearHead":
        with np.load(path) as f:
            return cls(**{k: f[k].astype(np.float64) for k in ("mean", "scale", "coef", "intercept")})


def fuse(windows_overall: np.ndarray, head_probs: np.ndarray, weight: float) -> np.ndarray:
    """The served ``overall``: the CNNs' window mean and the functionals head, mixed with ``weight``."""
    return (1.0 - weight) * windows_overall + weight * head_probs


def load_head(model_path: Path, meta: dict[str, Any], enabled: bool) -> LinearHead | None:
    """The functionals head ``meta`` names, if any, ``enabled`` and openSMILE installed. Without it, ``meta``
    becomes the CNNs' alone: their temperature, and ``-cnn`` after the version (stored with every sample)."""
    spec = meta.get("functionals")
    if not spec:
        return None
    if enabled and available():
        return LinearHead.load(model_path.parent / spec["file"])
    log.warning("%s: the functionals head is off (AI_SER_FUNCTIONALS or no openSMILE)", model_path.name)
    meta.update(version=f"{meta.get('version', '0')}-cnn", temperature=spec["cnn_temperature"])
    del meta["functionals"]
    return None
