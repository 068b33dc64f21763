"""Model registry: each served model is a ``.keras`` file plus ``<name>.json`` metadata next to it.

A route module declares the models it needs as ``MODELS = [ModelSpec(...)]``; ``main.py`` collects them and
the lifespan loads them all once, in a thread. Routes then fetch theirs with ``registry.get(name)`` and submit
inputs to ``loaded.batcher``.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ai_server.config import Settings
from ai_server.errors import NotReady

log = logging.getLogger(__name__)

PUBLIC_KEYS = (
    "name",
    "version",
    "kind",
    "labels",
    "input_size",
    "val_accuracy",
    "training_data",
    "licence",
    "temperature",
    "uncertain_below",
)


@dataclass(frozen=True)
class ModelSpec:
    """A model to load: ``name`` (registry key), ``kind`` (face|voice), the Settings field with its path."""

    name: str
    kind: str
    path_setting: str
    warm_up: "Callable[[LoadedModel], None] | None" = None  # first calls of the input path, while loading
    # what the model needs beside its graph (the SER's functionals head), from its path, metadata (which it
    # may edit) and the settings; kept as ``LoadedModel.extra``
    attach: Callable[[Path, dict[str, Any], Settings], Any] | None = None

    def path(self, settings: Settings) -> Path:
        return Path(getattr(settings, self.path_setting))


@dataclass
class LoadedModel:
    """A loaded Keras model, its metadata (``meta`` holds every key of the JSON), its batcher and what its
    spec's ``attach`` loaded beside it."""

    spec: ModelSpec
    model: Any
    meta: dict[str, Any]
    batcher: Any
    extra: Any = None

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def display_name(self) -> str:
        return f"{self.meta.get('name', self.spec.name)}-{self.meta.get('version', '0')}"

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """Temperature-scaled probabilities: ``softmax(log p / T)`` with the metadata's ``temperature``
        (fitted on validation data; absent or 1 leaves them as they are)."""
        t = float(self.meta.get("temperature") or 1.0)
        p = np.asarray(probs, np.float64)
        if t == 1.0:
            return p
        z = np.log(np.clip(p, 1e-7, 1.0)) / t
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def prediction(self, probs: np.ndarray, quality_issue: str | None = None) -> dict[str, Any]:
        """Label, calibrated confidence and scores of one input, with ``uncertain`` and why: the input's own
        ``quality_issue`` (a too small face, too little speech...) or a calibrated top probability below the
        metadata's ``uncertain_below``."""
        p = self.calibrate(probs)
        best = int(np.argmax(p))
        reason = quality_issue
        if reason is None and float(p[best]) < float(self.meta.get("uncertain_below") or 0.0):
            reason = "low confidence"
        return {
            "emotion": self.labels[best],
            "confidence": round(float(p[best]), 4),
            "scores": {label: round(float(v), 4) for label, v in zip(self.labels, p, strict=True)},
            "uncertain": reason is not None,
            "uncertain_reason": reason,
        }

    def info(self) -> dict[str, Any]:
        """The public description used by ``GET /v1/models``."""
        out = {k: self.meta.get(k) for k in PUBLIC_KEYS}
        out["kind"] = out["kind"] or self.spec.kind
        out["name"] = out["name"] or self.spec.name
        return out


def read_metadata(model_path: Path) -> dict[str, Any]:
    """The metadata JSON next to a model file (``fer.keras`` -> ``fer.json``)."""
    return json.loads(model_path.with_suffix(".json").read_text())


@dataclass
class Registry:
    """Holds the specs to load and, once ``load_all`` ran, the loaded models."""

    settings: Settings
    specs: list[ModelSpec]
    models: dict[str, LoadedModel] = field(default_factory=dict)
    error: str | None = None
    missing: list[str] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def load_all(self) -> None:
        """Load every model, its metadata and batcher (blocking: run in a thread).

        A spec without a model file is skipped and listed in ``missing``.
        """
        import keras  # heavy import kept out of module import time

        import ai_server.models.layers  # noqa: F401 - registers custom layers for deserialisation
        from ai_server.inference.batcher import Batcher

        try:
            for spec in self.specs:
                path = spec.path(self.settings)
                if not path.exists():
                    log.warning("model %s: no file at %s; its routes answer 503", spec.name, path)
                    self.missing.append(spec.name)
                    continue
                log.info("loading model %s from %s", spec.name, path)
                model = keras.models.load_model(path, compile=False)
                meta = read_metadata(path)
                extra = spec.attach(path, meta, self.settings) if spec.attach else None
                batcher = Batcher(
                    model,
                    spec.name,
                    max_batch=self.settings.batch_max_size,
                    max_wait_ms=self.settings.batch_max_wait_ms,
                )
                loaded = LoadedModel(spec, model, meta, batcher, extra)
                if spec.warm_up is not None:
                    spec.warm_up(loaded)
                batcher.warm_up()
                self.models[spec.name] = loaded
        except Exception as exc:  # noqa: BLE001 - reported by /readyz, the process keeps serving /healthz
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("model loading failed")
            return
        self._ready.set()

    def get(self, name: str) -> LoadedModel:
        """The loaded model ``name``; raises NotReady (503) while models are still loading."""
        if name in self.missing:
            raise NotReady(f"The {name} model is not installed on this server.")
        if not self.ready or name not in self.models:
            raise NotReady("The AI models are still loading; try again in a few seconds.")
        return self.models[name]

    def infos(self) -> list[dict[str, Any]]:
        return [m.info() for m in self.models.values()]

    async def close(self) -> None:
        for m in self.models.values():
            await m.batcher.close()
