"""Train the speech emotion (SER) model on RAVDESS 1-18 + CREMA-D + TESS, selected on held-out speakers.

Steps (one training at a time on the machine: run under the training lock, in the background)::

    T="flock /tmp/fasel-train.lock nohup .venv/bin/python -u -m ai_server.training.train_ser"
    $T train r4 > /tmp/ser-r4.log 2>&1 &  # train member r4, scoring held-out speakers every epoch
    # (then r5, t6, t7 and w10; the CNN members v3, v3b and v3c, served as 2.1.0-2.3.0, train the same way)
    .venv/bin/python -m ai_server.training.train_ser export r4 r5 t6 t7 w10  # best epochs' mean -> ser.keras
    # then fine-tuned with half the held-out speakers (measured on the other half), and with all of them:
    $T finetune r4 r5 t6 t7 w10 --add half > /tmp/ser-ft-half.log 2>&1 &
    $T finetune r4 r5 t6 t7 w10 --add all > /tmp/ser-ft-all.log 2>&1 &
    .venv/bin/python -m ai_server.training.train_ser export r4 r5 t6 t7 w10 --all-speakers
    # then the functionals classifier mixed into ``overall`` (rewrites ser.json and ser_metrics.json)
    .venv/bin/python -m ai_server.training.train_ser_functionals
    # members t8, t9 and w11 are meant for a GPU: trained in PyTorch (train_ser_gpu.py, all three
    # stages in one run) and imported here into the same run directories; ``train`` also takes them
    .venv/bin/python -m ai_server.training.train_ser import-torch t8 --weights OUT/t8.npz
    .venv/bin/python -m ai_server.training.train_ser mixes r4 r5 t6 t7 w10 t8 t9  # which members to export

Held out for selection, whole speakers of every corpus (``HELD_OUT``): RAVDESS actors 15-18 (two male, two
female), CREMA-D actors 1064-1075 and TESS's older speaker OAF. Every other clip trains. A held-out clip is
scored like the service scores a recording (``speech_windows`` of the served decode, window probabilities
aggregated into ``overall``); on CREMA-D and TESS, which have no ``calm``, ``calm`` counts as ``neutral``.
The epoch kept is the one with the best mean of the RAVDESS and CREMA-D held-out accuracies (TESS is too
clean and too small to select on). The served members then hear the held-out speakers too: ``finetune``
continues each selected member for a few epochs at a low learning rate with them added (``--add all``); the
same with half of them (``--add half``) measures on the other half what that changes and fits the served
temperature. Training resumes after an interruption (``keras.callbacks.BackupAndRestore``); every figure is
printed per epoch and kept in the history JSON.
"""

import argparse
import contextlib
import itertools
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ai_server.audio.decode import load_speech
from ai_server.audio.features import WINDOW_FRAMES, aggregate, input_shape, speech_windows, window_input
from ai_server.training.calibration import calibration_report
from ai_server.training.data_ser import CORPORA, LABELS, VARIANTS, Clip, load_ser_corpora
from ai_server.training.train_ser_gpu import CRNNS

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
RUNS_ROOT = Path("/tmp/fasel-ser-runs")
REPRESENTATION = "logmel"  # per-window standardised log-mel: level-free, as microphones differ
BATCH = 64


@dataclass(frozen=True)
class Member:
    """One trained network of the served ensemble: its seed and how many windows of a clip an epoch draws."""

    seed: int
    windows_per_clip: dict[str, int]  # RAVDESS is small and the only corpus with calm
    architecture: str = "cnn"  # ``build_ser_model``: "cnn", "crnn" or "crnn_wide"
    epochs: int = 45


MEMBERS = {
    "v3": Member(20261202, {"ravdess": 3, "crema-d": 1, "tess": 1}),
    "v3b": Member(7, {"ravdess": 3, "crema-d": 2, "tess": 1}),  # another seed, more CREMA-D per epoch
    "v3c": Member(11, {"ravdess": 4, "crema-d": 1, "tess": 1}),  # another seed, more RAVDESS per epoch
    # another architecture, fewer epochs of more CREMA-D windows (as many windows in all as v3's 45)
    "r4": Member(23, {"ravdess": 3, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    # r4 again with another seed and more RAVDESS windows; served beside r4 from 2.5.0
    "r5": Member(29, {"ravdess": 4, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    # r4's and r5's recipes with other seeds: t6 and t7 trained here with Keras, served with r4 and r5 from
    # 2.6.0; t8 and t9 are meant for a GPU (train_ser_gpu.py; import-torch)
    "t6": Member(31, {"ravdess": 3, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    "t7": Member(37, {"ravdess": 4, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    "t8": Member(41, {"ravdess": 3, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    "t9": Member(43, {"ravdess": 4, "crema-d": 2, "tess": 1}, "crnn", epochs=30),
    # wider networks (4x the weights), longer: w10 trained here with Keras, served from 2.7.0; w11 for a GPU
    "w10": Member(47, {"ravdess": 3, "crema-d": 2, "tess": 1}, "crnn_wide", epochs=40),
    "w11": Member(53, {"ravdess": 4, "crema-d": 2, "tess": 1}, "crnn_wide", epochs=40),
}
EQ_DB = 6.0
MODEL_VERSION = "2.7.0"
HELD_OUT = {
    "ravdess": {f"ravdess:{a}" for a in range(15, 19)},
    "crema-d": {f"crema-d:{a}" for a in range(1064, 1076)},
    "tess": {"tess:OAF"},
}
SELECT_ON = ("ravdess", "crema-d")
PEAK_LR = 2e-3
# Fine-tuning adds held-out speakers back: "half" of them, to measure what that does on the other half, or
# "all" of them for the served model.
ADDED = {
    "half": {"ravdess:15", "ravdess:16", *(f"crema-d:{a}" for a in range(1064, 1070))},
    "all": set().union(*HELD_OUT.values()),
}
FINETUNE_EPOCHS = 5
FINETUNE_LR = 3e-4
CALM, NEUTRAL = LABELS.index("calm"), LABELS.index("neutral")


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN's AVX-512 JIT kernels crash in training on this CPU; AVX2 kernels are as fast here.
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
    import keras
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # TensorFlow already running in this process (tests): as it is
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    return keras


def is_held_out(clip: Clip) -> bool:
    return clip.speaker in HELD_OUT[clip.corpus]


def build_ser_model(architecture: str = "cnn"):
    """Network over a window: 4 conv blocks, frequency folded into channels, then attention + max pooling
    over time. ``cnn`` pools time in every block (6 frames left); the recurrent ones (``CRNNS``: ``crnn``
    and the wider ``crnn_wide``) pool it in the first two only and read the 25 frames left with a
    bidirectional GRU."""
    keras = _keras()
    layers = keras.layers
    convs, frame, units, head = CRNNS["crnn" if architecture == "cnn" else architecture]  # CNNs: no GRU
    time_pools = 4 if architecture == "cnn" else 2
    inp = keras.Input(input_shape(REPRESENTATION), name="window")
    x = inp
    for i, filters in enumerate(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D((2, 2) if i < time_pools else (2, 1))(x)
        if i >= 1:
            x = layers.SpatialDropout2D(0.1)(x)
    _, freq, time_steps, channels = x.shape
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((time_steps, freq * channels))(x)
    x = layers.Dense(frame, activation="relu")(x)
    if architecture in CRNNS:
        x = layers.Bidirectional(layers.GRU(units, return_sequences=True))(x)
    attn = layers.Softmax(axis=1)(layers.Dense(1)(x))  # which frames carry the emotion
    pooled = layers.Dot(axes=1)([attn, x])
    x = layers.Concatenate()([layers.Flatten()(pooled), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(head, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(len(LABELS), activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=f"ser_{architecture}")


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


def random_eq(n_mels: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random gain curve over the mel bins (dB, within +-EQ_DB): another microphone's colour."""
    k = np.arange(n_mels) / (n_mels - 1)
    curve = sum(rng.normal(0, 1) * np.cos(np.pi * j * k) for j in range(1, 4))
    return (EQ_DB * curve / max(float(np.max(np.abs(curve))), 1.0))[:, None].astype(np.float32)


def random_window(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """One augmented training input: random variant, crop or time shift, EQ curve, SpecAugment."""
    db = clip.mels[VARIANTS[int(rng.integers(len(VARIANTS)))]].astype(np.float32)
    frames = db.shape[1]
    left = 0
    if frames > WINDOW_FRAMES:
        start = int(rng.integers(0, frames - WINDOW_FRAMES + 1))
        db = db[:, start : start + WINDOW_FRAMES]
    elif rng.random() < 0.5:
        left = int(rng.integers(0, WINDOW_FRAMES - frames + 1))
    if rng.random() < 0.7:
        db = db + random_eq(db.shape[0], rng)
    return spec_augment(window_input(db, REPRESENTATION, left_pad=left), rng)


def class_weights(clips: list[Clip], windows_per_clip: dict[str, int]) -> np.ndarray:
    """Per-class loss weights, inverse square root of the class's share of the epoch's windows."""
    counts = np.zeros(len(LABELS))
    for c in clips:
        counts[c.label] += windows_per_clip[c.corpus]
    w = np.sqrt(counts.sum() / (len(LABELS) * np.maximum(counts, 1)))
    return (w / np.mean(w[counts > 0])).astype(np.float32)


def make_dataset(clips: list[Clip], member: Member):
    """A Keras PyDataset drawing fresh augmented windows of every clip each epoch."""
    keras = _keras()
    weights = class_weights(clips, member.windows_per_clip)
    eye = np.eye(len(LABELS), dtype=np.float32)
    order = [c for c in clips for _ in range(member.windows_per_clip[c.corpus])]
    seed = member.seed

    class Windows(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self) -> int:
            return int(np.ceil(len(order) / BATCH))

        def on_epoch_end(self) -> None:
            self.perm = self.rng.permutation(len(order))

        def __getitem__(self, i: int):
            batch = [order[j] for j in self.perm[i * BATCH : (i + 1) * BATCH]]
            y = np.asarray([c.label for c in batch])
            x = np.stack([random_window(c, self.rng) for c in batch])
            return x, eye[y], weights[y]

    return Windows()


class HeldOut:
    """The held-out clips, windowed once exactly as the service windows an upload."""

    def __init__(self, clips: list[Clip]):
        self.clips = clips
        self.y = np.asarray([c.label for c in clips])
        self.windows = [speech_windows(load_speech(Path(c.path).read_bytes()), REPRESENTATION) for c in clips]
        self.inputs = np.concatenate([w.inputs for w in self.windows])

    def overall(self, model) -> np.ndarray:
        """Per clip: the ``overall`` class probabilities the service would answer."""
        probs = model.predict(self.inputs, batch_size=512, verbose=0)
        out, i = [], 0
        for w in self.windows:
            n = len(w.starts_s)
            out.append(aggregate(probs[i : i + n], w.weights))
            i += n
        return np.asarray(out)


def by_corpus(clips: list[Clip], pred: np.ndarray):
    """Per corpus present: the mask of its clips and their predictions, ``calm`` counted as ``neutral`` on
    corpora without ``calm``."""
    for corpus in CORPORA:
        idx = np.asarray([c.corpus == corpus for c in clips])
        if idx.any():
            p = pred[idx]
            yield corpus, idx, (p if corpus == "ravdess" else np.where(p == CALM, NEUTRAL, p))


def corpus_scores(clips: list[Clip], y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Accuracy per corpus (``by_corpus``)."""
    return {corpus: round(float(np.mean(p == y[idx])), 4) for corpus, idx, p in by_corpus(clips, pred)}


def selection_score(scores: dict[str, float]) -> float:
    return float(np.mean([scores[c] for c in SELECT_ON]))


def make_callbacks(runs: Path, held: HeldOut | None, keep_best: bool) -> list:
    """Resume after an interruption, log each epoch (and the held-out scores, if any) to ``history.json``,
    and keep the model to export: the best epoch by held-out ``select`` (``best.keras``) or the last one
    (``final.keras``)."""
    keras = _keras()
    history_path = runs / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            entry = {"epoch": epoch + 1, "train_accuracy": round(float(logs["accuracy"]), 4)}
            if held is not None:
                scores = corpus_scores(held.clips, held.y, np.argmax(held.overall(self.model), axis=1))
                logs["select"] = selection_score(scores)
                entry |= {"held_out": scores, "select": round(logs["select"], 4)}
            entry["seconds"] = round(time.time() - self.t0, 1)
            history[:] = [h for h in history if h["epoch"] <= epoch] + [entry]
            history_path.write_text(json.dumps(history, indent=1))
            print(json.dumps(entry), flush=True)

    if keep_best:
        keep = keras.callbacks.ModelCheckpoint(
            runs / "best.keras",
            monitor="select",
            mode="max",
            save_best_only=True,
            initial_value_threshold=max((h["select"] for h in history), default=None),
        )
    else:
        keep = keras.callbacks.ModelCheckpoint(runs / "final.keras")
    return [keras.callbacks.BackupAndRestore(str(runs / "backup"), delete_checkpoint=False), Log(), keep]


def fit(model, member: Member, train: list[Clip], held: HeldOut | None, runs: Path, epochs: int, lr: float):
    """Train ``model`` on ``train`` (warm-up to ``lr``, then cosine decay). Trained from scratch
    (``PEAK_LR``), the best epoch on ``held`` is kept; fine-tuned, the last one (``held`` only reported)."""
    keras = _keras()
    runs.mkdir(parents=True, exist_ok=True)
    data = make_dataset(train, member)
    steps = epochs * len(data)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(
                0.0, steps - steps // 20, warmup_target=lr, warmup_steps=steps // 20
            ),
            weight_decay=1e-3,
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        weighted_metrics=["accuracy"],
    )
    print(f"{len(train)} training clips" + ("" if held is None else f", {len(held.clips)} held-out clips"))
    model.fit(data, epochs=epochs, verbose=2, callbacks=make_callbacks(runs, held, keep_best=lr == PEAK_LR))


def run_train(name: str, epochs: int) -> None:
    """Train member ``name`` from scratch on every speaker but the held-out ones, scoring those each epoch."""
    keras = _keras()
    member = MEMBERS[name]
    keras.utils.set_random_seed(member.seed)
    clips = load_ser_corpora()
    held = HeldOut([c for c in clips if is_held_out(c)])
    train = [c for c in clips if not is_held_out(c)]
    fit(build_ser_model(member.architecture), member, train, held, RUNS_ROOT / name, epochs, PEAK_LR)


def run_finetune(names: list[str], epochs: int, add: str) -> None:
    """Continue each member from its best epoch with the held-out speakers ``ADDED[add]`` among its training
    clips, at a low learning rate, keeping the last epoch; the speakers still held out are scored."""
    keras = _keras()
    clips = load_ser_corpora()
    train = [c for c in clips if not is_held_out(c) or c.speaker in ADDED[add]]
    rest = [c for c in clips if is_held_out(c) and c.speaker not in ADDED[add]]
    held = HeldOut(rest) if rest else None
    for name in names:
        member = MEMBERS[name]
        keras.utils.set_random_seed(member.seed)
        model = keras.models.load_model(RUNS_ROOT / name / "best.keras", compile=False)
        fit(model, member, train, held, RUNS_ROOT / f"{name}-{add}", epochs, FINETUNE_LR)


def import_torch(name: str, weights: Path) -> None:
    """A member trained by ``train_ser_gpu`` (its ``.npz``) into Keras twins: the selected epoch as
    ``RUNS_ROOT/<name>/best.keras``, the fine-tunings as ``<name>-half`` and ``<name>-all``'s
    ``final.keras``, each with its history, as ``train`` and ``finetune`` leave them; the twin is first
    checked against the probabilities the PyTorch run wrote."""
    stages = {
        "best": (name, "best.keras"),
        "half": (f"{name}-half", "final.keras"),
        "all": (f"{name}-all", "final.keras"),
    }
    with np.load(weights) as f:
        for stage, (run, file) in stages.items():
            if f"history/{stage}" not in f.files:  # a run the lease cut short
                print(f"{name}: no {stage} stage in {weights}")
                continue
            model = build_ser_model(MEMBERS[name].architecture)
            model.set_weights([f[k] for k in sorted(k for k in f.files if k.startswith(f"{stage}/"))])
            if stage == "best":
                probs = model.predict(f["probe_x"].transpose(0, 2, 3, 1), verbose=0)
                gap = float(np.abs(probs - f["probe_p"]).max())
                print(f"{name}: epoch {int(f['selected'])}, largest probability gap to PyTorch: {gap:.1e}")
                if gap > 1e-3:
                    raise SystemExit(f"{name}: the Keras twin does not reproduce the PyTorch network")
            (RUNS_ROOT / run).mkdir(parents=True, exist_ok=True)
            model.save(RUNS_ROOT / run / file)
            history = json.loads(str(f[f"history/{stage}"]))
            (RUNS_ROOT / run / "history.json").write_text(json.dumps(history, indent=1))


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> list[list[int]]:
    m = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m.tolist()


def build_ensemble(models: dict):
    """One Keras model: the mean of the members' window probabilities (a single member is served as is)."""
    keras = _keras()
    if len(models) == 1:
        return next(iter(models.values()))
    inp = keras.Input(input_shape(REPRESENTATION), name="window")
    outs = []
    for name, m in models.items():
        o = keras.Model(m.inputs, m.outputs, name=f"member_{name}")(inp)
        outs.append(o[0] if isinstance(o, list | tuple) else o)  # reloaded models may return a list
    return keras.Model(inp, keras.layers.Average(name="emotion")(outs), name="ser_ensemble")


def held_out_report(held: HeldOut, pred: np.ndarray) -> dict:
    """Per corpus: speakers, clips, accuracy and confusion matrix of the held-out predictions."""
    report = {}
    for corpus, idx, p in by_corpus(held.clips, pred):
        report[corpus] = {
            "speakers": sorted(HELD_OUT[corpus]),
            "clips": int(idx.sum()),
            "accuracy": round(float(np.mean(p == held.y[idx])), 4),
            "confusion_matrix": {"labels": list(LABELS), "rows_true_cols_pred": confusion(held.y[idx], p)},
        }
    return report


def calibration_on_real_speech(clips: list[Clip], probs: np.ndarray, y: np.ndarray, fitted_on: str) -> dict:
    """Temperature and ECE fitted on the RAVDESS and CREMA-D clips only: TESS is too clean to calibrate on."""
    real = np.asarray([c.corpus in SELECT_ON for c in clips])
    return calibration_report(probs[real], y[real], fitted_on)


def runs_overall(held: HeldOut, names: list[str], run_suffix: str = "") -> np.ndarray:
    """``overall`` on ``held`` of the members' mean: their best epochs, or with a ``run_suffix`` (``-half``,
    ``-all``) the last epoch of that fine-tuning."""
    keras = _keras()
    file = "final.keras" if run_suffix else "best.keras"
    models = {n: keras.models.load_model(RUNS_ROOT / f"{n}{run_suffix}" / file, compile=False) for n in names}
    return held.overall(build_ensemble(models))


def run_mixes(names: list[str]) -> None:
    """Every mix of the members' selection models (each alone too), scored on the held-out speakers (an
    ensemble's ``overall`` is the mean of its members': aggregation is linear), best selection mean last."""
    clips = load_ser_corpora()
    held = HeldOut([c for c in clips if is_held_out(c)])
    overall = {n: runs_overall(held, [n]) for n in names}
    rows = []
    for k in range(1, len(names) + 1):
        for mix in itertools.combinations(names, k):
            scores = corpus_scores(
                held.clips, held.y, np.mean([overall[n] for n in mix], axis=0).argmax(axis=1)
            )
            rows.append((selection_score(scores), " + ".join(mix), scores))
    for select, mix, scores in sorted(rows, key=lambda r: r[0]):
        print(f"{select:.4f}  {mix}: {scores}")


def still_held_out(held: HeldOut) -> tuple[np.ndarray, list[Clip], np.ndarray]:
    """Held-out clips that ``ADDED["half"]`` leaves out: their mask on ``held``, the clips, their labels."""
    rest = np.asarray([c.speaker not in ADDED["half"] for c in held.clips])
    return rest, [c for c, r in zip(held.clips, rest, strict=True) if r], held.y[rest]


def added_speakers_check(names: list[str], held: HeldOut, before: np.ndarray) -> dict:
    """What fine-tuning with more speakers does, measured: the members fine-tuned with half of the held-out
    speakers (``ADDED["half"]``) against the selection models (``before``: their ``overall`` on ``held``), on
    the held-out speakers neither heard; the calibration the served model gets is fitted there too."""
    after = runs_overall(held, names, "-half")
    rest, clips, y = still_held_out(held)
    return {
        "added": sorted(ADDED["half"]),
        "scored_on": sorted({c.speaker for c in clips}),
        "before": corpus_scores(clips, y, before[rest].argmax(axis=1)),
        "after": corpus_scores(clips, y, after[rest].argmax(axis=1)),
        "calibration": calibration_on_real_speech(
            clips,
            after[rest],
            y,
            "the RAVDESS and CREMA-D speakers of scored_on, by the members fine-tuned with the added half",
        ),
    }


def run_export(names: list[str], all_speakers: bool) -> None:
    """The members' best epochs, averaged, scored and calibrated on the held-out speakers, become
    ``models/ser.keras``. With ``all_speakers`` the members fine-tuned with every speaker are served instead:
    the held-out figures stay those of the selection models, and the calibration and what adding speakers
    does are measured by the members fine-tuned with half of them (``added_speakers_check``)."""
    keras = _keras()
    clips = load_ser_corpora()
    held = HeldOut([c for c in clips if is_held_out(c)])
    selected, served, members = {}, {}, {}
    for name in names:
        member, history = MEMBERS[name], json.loads((RUNS_ROOT / name / "history.json").read_text())
        selected[name] = keras.models.load_model(RUNS_ROOT / name / "best.keras", compile=False)
        members[name] = {
            "architecture": member.architecture,
            "seed": member.seed,
            "windows_per_clip": member.windows_per_clip,
            "epochs": len(history),
            "selected_epoch": max(history, key=lambda h: h["select"])["epoch"],
            "held_out": corpus_scores(held.clips, held.y, held.overall(selected[name]).argmax(axis=1)),
            "history": history,
        }
        if all_speakers:
            run = RUNS_ROOT / f"{name}-all"
            served[name] = keras.models.load_model(run / "final.keras", compile=False)
            members[name]["finetune_history"] = json.loads((run / "history.json").read_text())
    probs = held.overall(build_ensemble(selected))
    per_corpus = held_out_report(held, probs.argmax(axis=1))
    if all_speakers:
        check = added_speakers_check(names, held, probs)
        calibration = check.pop("calibration")
    else:
        calibration = calibration_on_real_speech(
            held.clips, probs, held.y, "the held-out RAVDESS and CREMA-D clips above (overall probabilities)"
        )
    build_ensemble(served or selected).save(MODELS_DIR / "ser.keras")
    protocol = (
        "held-out speakers (RAVDESS 15-18, CREMA-D 1064-1075, TESS OAF), clip-level overall as served; "
        "val_accuracy is the mean of the RAVDESS (8 classes) and CREMA-D (6 classes, calm = neutral) figures"
    )
    if all_speakers:
        protocol += (
            " of the selection models, trained without those speakers; the served members are those models "
            f"fine-tuned {FINETUNE_EPOCHS} epochs (learning rate up to {FINETUNE_LR}) with every speaker"
        )
    meta = {
        "name": "ser",
        "version": MODEL_VERSION,
        "kind": "voice",
        "labels": list(LABELS),
        "input_size": list(input_shape(REPRESENTATION)),
        "representation": REPRESENTATION,
        "temperature": calibration["temperature"],
        "uncertain_below": calibration["uncertain_below"],
        "val_accuracy": round(selection_score({c: per_corpus[c]["accuracy"] for c in CORPORA}), 4),
        "val_protocol": protocol,
        "training_data": (
            "RAVDESS speech actors 1-18, CREMA-D actors 1001-1075, TESS YAF and OAF"
            if all_speakers
            else "RAVDESS speech actors 1-14, CREMA-D actors 1001-1063, TESS YAF"
        )
        + " (16 kHz; augmented: speed, noise, reverberation, Opus 6-16 kbit/s, EQ, SpecAugment)",
        "members": names,
        "ensemble": (
            f"mean of {len(names)} networks' window probabilities ({', '.join(names)})"
            if len(names) > 1
            else f"one network ({names[0]}, {MEMBERS[names[0]].architecture})"
        ),
        "licence": (
            "CC BY-NC-SA 4.0 (RAVDESS) and CC BY-NC-ND 4.0 (TESS): non-commercial use only; CREMA-D is ODbL"
        ),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (MODELS_DIR / "ser.json").write_text(json.dumps(meta, indent=2) + "\n")
    metrics = {
        "task": "8-class speech emotion (calm = neutral on corpora without calm)",
        "protocol": protocol,
        "held_out": per_corpus,
        "calibration": calibration,
        **({"added_speakers_check": check} if all_speakers else {}),
        "members": members,
    }
    (MODELS_DIR / "ser_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    summary = {k: v for k, v in metrics.items() if k != "members"}
    summary["members"] = {
        n: {k: v for k, v in m.items() if k not in ("history", "finetune_history")}
        for n, m in members.items()
    }
    print(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["train", "finetune", "export", "import-torch", "mixes"])
    parser.add_argument("members", nargs="+", choices=sorted(MEMBERS), help="train: one; export: all served")
    parser.add_argument("--epochs", type=int, help=f"train: the member's; finetune: {FINETUNE_EPOCHS}")
    parser.add_argument(
        "--add", choices=sorted(ADDED), default="all", help="finetune: which held-out speakers"
    )
    parser.add_argument(
        "--all-speakers", action="store_true", help="export: the members fine-tuned with every speaker"
    )
    parser.add_argument("--weights", type=Path, help="import-torch: the .npz train_ser_gpu.py wrote")
    args = parser.parse_args()
    if args.step == "train":
        run_train(args.members[0], args.epochs or MEMBERS[args.members[0]].epochs)
    elif args.step == "mixes":
        run_mixes(args.members)
    elif args.step == "import-torch":
        import_torch(args.members[0], args.weights)
    elif args.step == "finetune":
        run_finetune(args.members, args.epochs or FINETUNE_EPOCHS, args.add)
    else:
        run_export(args.members, args.all_speakers)


if __name__ == "__main__":
    main()
