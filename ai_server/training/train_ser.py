"""Train and select the speech emotion (SER) model on RAVDESS actors 1-18, speaker-independently.

Run each step under the machine's training lock (each finishes well within 25 minutes on 2 cores)::

    T="flock /tmp/fasel-train.lock .venv/bin/python -u -m ai_server.training.train_ser"
    $T cv --representation siaser
    $T cv --representation logmel_abs
    $T cv --representation logmel --folds 0   # dropped after fold 0
    .venv/bin/python -m ai_server.training.train_ser report   # CV summary -> models/ser_metrics.json
    $T final --seeds 2   # trains member 0 (seed 0) and saves it alone
    $T final --seeds 2   # trains member 1 and saves the average of both

Cross-validation holds out whole actors (3 folds of 6 actors, ``(actor - 1) % 3``); a fold's accuracy is
measured like the service measures a recording: all windows of the clip, window probabilities aggregated
into the ``overall`` prediction (``features.aggregate``). The final model is trained on all 18 actors with
the configuration whose mean CV accuracy is highest, twice with different seeds, and the two are averaged
in one Keras model. Fold results and members are kept under /tmp so steps can resume.
"""

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ai_server.audio.features import (
    REPRESENTATIONS,
    WINDOW_FRAMES,
    aggregate,
    input_shape,
    speech_windows,
    window_input,
)
from ai_server.training.data_ser import LABELS, VARIANTS, Clip, load_ravdess_ser

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
RUNS_DIR = Path("/tmp/fasel-ser-runs")
N_FOLDS = 3
SEED = 20240531
EPOCHS = 40
WINDOWS_PER_CLIP = 3  # random windows drawn from each training clip per epoch
BATCH = 32
GAIN_DB = 6.0
MIXUP_ALPHA = 0.3
MODEL_MAJOR = 1  # version MAJOR.(members - 1).0: 1.0.0 one model, 1.1.0 two seeds averaged


def fold_of(actor: int) -> int:
    return (actor - 1) % N_FOLDS


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return keras


def build_ser_model(representation: str, name: str | None = None):
    """Small CNN: 4 conv blocks, frequency folded into channels, mean+max pooling over time, softmax."""
    keras = _keras()
    layers = keras.layers
    inp = keras.Input(input_shape(representation), name="window")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inp) if representation == "siaser" else inp
    for i, filters in enumerate((24, 48, 96, 128)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
        if i >= 1:
            x = layers.SpatialDropout2D(0.1)(x)
    _, freq, time_steps, channels = x.shape
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((time_steps, freq * channels))(x)
    x = layers.Concatenate()([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(len(LABELS), activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name or f"ser_{representation}")


def spec_augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two frequency masks (<= 8 bins) and two time masks (<= 12 frames), filled with the patch mean (0)."""
    x = x.copy()
    for _ in range(2):
        f = int(rng.integers(0, 9))
        f0 = int(rng.integers(0, x.shape[0] - f + 1))
        x[f0 : f0 + f, :, :] = 0.0
        t = int(rng.integers(0, 13))
        t0 = int(rng.integers(0, x.shape[1] - t + 1))
        x[:, t0 : t0 + t, :] = 0.0
    return x


def epoch_inputs(
    clips: list[Clip], representation: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of each clip: random variant, crop / time shift, gain and SpecAugment (logmel)."""
    xs, ys = [], []
    for clip in clips * WINDOWS_PER_CLIP:
        db = clip.mels[VARIANTS[int(rng.integers(len(VARIANTS)))]].astype(np.float32)
        frames = db.shape[1]
        left = 0
        if frames > WINDOW_FRAMES:
            start = int(rng.integers(0, frames - WINDOW_FRAMES + 1))
            db = db[:, start : start + WINDOW_FRAMES]
        elif rng.random() < 0.5:
            left = int(rng.integers(0, WINDOW_FRAMES - frames + 1))
        if representation == "logmel_abs":
            db = db + rng.uniform(-GAIN_DB, GAIN_DB)  # gain: the other representations are level-free
        x = window_input(db, representation, left_pad=left)
        if representation.startswith("logmel"):
            x = spec_augment(x, rng)
        xs.append(x)
        ys.append(clip.label)
    return np.stack(xs), np.asarray(ys)


def mixup(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Convex combinations of shuffled pairs (inputs and one-hot targets)."""
    lam = rng.beta(MIXUP_ALPHA, MIXUP_ALPHA, size=len(x)).astype(np.float32)
    lam = np.maximum(lam, 1 - lam)
    perm = rng.permutation(len(x))
    xl = lam.reshape(-1, *([1] * (x.ndim - 1)))
    return xl * x + (1 - xl) * x[perm], lam[:, None] * y + (1 - lam[:, None]) * y[perm]


def train_ser(
    clips: list[Clip],
    representation: str,
    epochs: int,
    seed: int,
    use_mixup: bool = False,
    name: str | None = None,
):
    """Train one model on ``clips`` with a cosine learning-rate schedule; returns the Keras model."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_ser_model(representation, name)
    steps = epochs * int(np.ceil(len(clips) * WINDOWS_PER_CLIP / BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps - steps // 20, warmup_target=2e-3, warmup_steps=steps // 20
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-3),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05),
        metrics=["accuracy"],
    )
    eye = np.eye(len(LABELS), dtype=np.float32)
    for epoch in range(epochs):
        x, y = epoch_inputs(clips, representation, rng)
        targets = eye[y]
        if use_mixup:
            x, targets = mixup(x, targets, rng)
        t0 = time.time()
        hist = model.fit(x, targets, batch_size=BATCH, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        if epoch % 5 == 0 or epoch == epochs - 1:
            acc = hist.history["accuracy"][-1]
            print(f"  epoch {epoch + 1}/{epochs}: train acc {acc:.3f} ({time.time() - t0:.1f} s)", flush=True)
    return model


def predict_clips(model, clips: list[Clip], representation: str) -> tuple[np.ndarray, np.ndarray]:
    """Clip-level ``overall`` predictions exactly as the service computes them; also window-level accuracy."""
    windows = [speech_windows(c.speech, representation) for c in clips]
    counts = [len(w.starts_s) for w in windows]
    probs = model.predict(np.concatenate([w.inputs for w in windows]), batch_size=256, verbose=0)
    overall, window_hits, i = [], [], 0
    for clip, w, n in zip(clips, windows, counts, strict=True):
        p = probs[i : i + n]
        i += n
        overall.append(int(np.argmax(aggregate(p, w.weights))) if n else -1)
        window_hits.extend(np.argmax(p, axis=1) == clip.label)
    return np.asarray(overall), np.asarray(window_hits)


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    m = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        if p >= 0:
            m[t, p] += 1
    return m


def summary(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    m = confusion(y_true, y_pred)
    recall = {lab: round(float(m[i, i] / max(m[i].sum(), 1)), 4) for i, lab in enumerate(LABELS)}
    return {
        "accuracy": round(float(np.mean(y_true == y_pred)), 4),
        "per_class_recall": recall,
        "confusion_matrix": {"labels": list(LABELS), "rows_true_cols_pred": m.tolist()},
    }


def config_name(representation: str, use_mixup: bool, epochs: int) -> str:
    return f"{representation}{'+mixup' if use_mixup else ''}_e{epochs}"


def run_cv(representation: str, folds: list[int], epochs: int, use_mixup: bool) -> None:
    clips = load_ravdess_ser()
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    name = config_name(representation, use_mixup, epochs)
    for fold in folds:
        out = RUNS_DIR / f"cv_{name}_fold{fold}.json"
        if out.exists():
            print(f"{out} exists, skipping")
            continue
        train = [c for c in clips if fold_of(c.actor) != fold]
        test = [c for c in clips if fold_of(c.actor) == fold]
        print(
            f"{name} fold {fold}: {len(train)} training clips, test actors {sorted({c.actor for c in test})}"
        )
        t0 = time.time()
        model = train_ser(train, representation, epochs, SEED + fold, use_mixup)
        y_pred, window_hits = predict_clips(model, test, representation)
        y_true = np.asarray([c.label for c in test])
        result = {
            "config": name,
            "representation": representation,
            "mixup": use_mixup,
            "epochs": epochs,
            "fold": fold,
            "test_actors": sorted({c.actor for c in test}),
            "clip_accuracy": round(float(np.mean(y_pred == y_true)), 4),
            "window_accuracy": round(float(np.mean(window_hits)), 4),
            "y_true": y_true.tolist(),
            "y_pred": y_pred.tolist(),
            "train_seconds": round(time.time() - t0, 1),
        }
        out.write_text(json.dumps(result))
        model.save(out.with_suffix(".keras"))
        print(
            f"  clip accuracy {result['clip_accuracy']:.4f}, window accuracy {result['window_accuracy']:.4f}"
        )


def cv_report() -> dict:
    """Summaries of every configuration whose CV folds have all finished."""
    report = {}
    for first in sorted(RUNS_DIR.glob("cv_*_fold0.json")):
        runs = [first.with_name(first.name.replace("_fold0", f"_fold{k}")) for k in range(N_FOLDS)]
        if not all(r.exists() for r in runs):
            continue
        results = [json.loads(r.read_text()) for r in runs]
        y_true = np.concatenate([r["y_true"] for r in results])
        y_pred = np.concatenate([r["y_pred"] for r in results])
        report[results[0]["config"]] = {
            "representation": results[0]["representation"],
            "mixup": results[0]["mixup"],
            "epochs": results[0]["epochs"],
            "mean_clip_accuracy": round(float(np.mean([r["clip_accuracy"] for r in results])), 4),
            "fold_clip_accuracy": [r["clip_accuracy"] for r in results],
            "mean_window_accuracy": round(float(np.mean([r["window_accuracy"] for r in results])), 4),
            "fold_test_actors": [r["test_actors"] for r in results],
            "pooled": summary(y_true, y_pred),
            "train_seconds_per_fold": [r["train_seconds"] for r in results],
        }
    return report


def write_report() -> dict:
    report = cv_report()
    if not report:
        raise SystemExit("no complete CV run found; run the cv step first")
    best = max(report, key=lambda name: report[name]["mean_clip_accuracy"])
    metrics = {
        "task": "8-class speech emotion, RAVDESS speech actors 1-18",
        "protocol": (
            f"leave-actors-out cross-validation, {N_FOLDS} folds of 6 actors ((actor-1) % {N_FOLDS}); "
            "clip-level accuracy of the aggregated overall prediction, as served"
        ),
        "labels": list(LABELS),
        "seed": SEED,
        "cv": report,
        "selected": best,
    }
    path = MODELS_DIR / "ser_metrics.json"
    if path.exists():
        metrics["final"] = json.loads(path.read_text()).get("final")
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    for name, r in report.items():
        print(f"{name}: mean clip accuracy {r['mean_clip_accuracy']:.4f} folds {r['fold_clip_accuracy']}")
    print(f"selected: {best}")
    return metrics


def ensemble_ser(models: list, representation: str):
    """One Keras model averaging the members' probabilities (one compiled call serves them all)."""
    keras = _keras()
    if len(models) == 1:
        return models[0]
    inp = keras.Input(input_shape(representation), name="window")
    out = keras.layers.Average(name="emotion")([m(inp) for m in models])
    return keras.Model(inp, out, name=f"ser_{representation}_ensemble")


def run_final(seeds: int, max_new: int) -> None:
    """Train the selected configuration on all 18 actors with ``seeds`` seeds (at most ``max_new`` new ones
    per call, so each call fits the 25-minute budget; finished members are kept under /tmp) and save the
    average of the finished members as ``models/ser.keras``."""
    keras = _keras()
    metrics = write_report()
    cv = metrics["cv"][metrics["selected"]]
    rep, epochs, use_mixup = cv["representation"], cv["epochs"], cv["mixup"]
    clips = load_ravdess_ser()
    members, trained = [], 0
    for k in range(seeds):
        path = RUNS_DIR / f"final_{metrics['selected']}_seed{k}.keras"
        if not path.exists():
            if trained >= max_new:
                continue
            print(f"final member {k}: {metrics['selected']} on all {len(clips)} clips")
            train_ser(clips, rep, epochs, SEED + 100 * k, use_mixup, name=f"ser_{rep}_seed{k}").save(path)
            trained += 1
        members.append(keras.models.load_model(path, compile=False))
    model = ensemble_ser(members, rep)
    y_pred, _ = predict_clips(model, clips, rep)
    train_acc = float(np.mean(y_pred == np.asarray([c.label for c in clips])))
    model.save(MODELS_DIR / "ser.keras")
    meta = {
        "name": "ser",
        "version": f"{MODEL_MAJOR}.{len(members) - 1}.0",
        "kind": "voice",
        "labels": list(LABELS),
        "input_size": list(input_shape(rep)),
        "representation": rep,
        "val_accuracy": cv["mean_clip_accuracy"],
        "val_protocol": metrics["protocol"],
        "training_data": "RAVDESS speech, actors 1-18 (1,080 clips, 16 kHz), all actors for the final model",
        "licence": "CC BY-NC-SA 4.0 (inherited from RAVDESS)",
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (MODELS_DIR / "ser.json").write_text(json.dumps(meta, indent=2) + "\n")
    metrics["final"] = {
        "config": metrics["selected"],
        "members": len(members),
        "actors": list(range(1, 19)),
        "train_clip_accuracy": round(train_acc, 4),
    }
    (MODELS_DIR / "ser_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"saved ser.keras ({metrics['selected']} x {len(members)}), train clip accuracy {train_acc:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["cv", "report", "final"])
    parser.add_argument("--representation", choices=REPRESENTATIONS, default="siaser")
    parser.add_argument("--folds", default=",".join(str(k) for k in range(N_FOLDS)))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--mixup", action="store_true", help="train with mixup")
    parser.add_argument("--seeds", type=int, default=1, help="final: ensemble members (seeds)")
    parser.add_argument("--max-new", type=int, default=1, help="final: members trained by this call")
    args = parser.parse_args()
    if args.step == "cv":
        run_cv(args.representation, [int(k) for k in args.folds.split(",")], args.epochs, args.mixup)
    elif args.step == "report":
        write_report()
    else:
        run_final(args.seeds, args.max_new)


if __name__ == "__main__":
    main()
