"""Fit the served SER's second part: a linear classifier on each answer's ComParE functionals, fused with the
CNN ensemble's ``overall`` (``ai_server/audio/functionals.py``).

Run after ``train_ser export --all-speakers`` (it needs the served members' runs in ``RUNS_ROOT``: the
selection models and those fine-tuned with half of the held-out speakers)::

    .venv/bin/python -m ai_server.training.train_ser_functionals

What it does, with the speakers ``train_ser`` holds out:
1. a logistic regression per ``C`` on the selection speakers, fused with the selection CNNs at each weight,
   scored on the held-out speakers: the ``C`` and weight with the best mean of the RAVDESS and CREMA-D
   figures are kept;
2. the same regression with half the held-out speakers added, fused with the CNNs fine-tuned the same way,
   on the speakers neither heard: what the fusion adds there, and the served temperature (fitted there);
3. the regression on every speaker, saved as ``models/ser_functionals.npz``; ``ser.json`` and
   ``ser_metrics.json`` get the fused figures.
Features (the served extraction on the served decode) are cached in ``CACHE_DIR`` (~20 minutes on 2 cores).
"""

import json
import multiprocessing
from pathlib import Path

import numpy as np

from ai_server.audio.decode import load_speech
from ai_server.audio.functionals import FEATURE_SET, LinearHead, functionals, fuse
from ai_server.training import train_ser as ts
from ai_server.training.data_ser import CACHE_DIR, Clip, load_ser_corpora

C_GRID = (3e-4, 1e-3, 3e-3)
WEIGHT_GRID = (0.2, 0.3, 0.4, 0.5)
HEAD_FILE = "ser_functionals.npz"


def _row(path: str) -> np.ndarray:
    return functionals(load_speech(Path(path).read_bytes()).samples)


def clip_features(clips: list[Clip]) -> np.ndarray:
    """Functionals of each clip, ``(len(clips), 6373)``; cached by ``corpus/folder/file``."""
    cache = CACHE_DIR / f"functionals_{FEATURE_SET}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as f:
            known = dict(zip(f["path"].tolist(), f["x"], strict=True))
    keys = ["/".join(Path(c.path).parts[-3:]) for c in clips]
    todo = [(k, c.path) for k, c in zip(keys, clips, strict=True) if k not in known]
    if todo:
        print(f"extracting functionals of {len(todo)} clips", flush=True)
        with multiprocessing.get_context("spawn").Pool(2) as pool:  # no TensorFlow in openSMILE's processes
            rows = pool.map(_row, [p for _, p in todo], chunksize=16)
        known.update({k: r for (k, _), r in zip(todo, rows, strict=True)})
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        np.savez(cache, path=np.array(list(known)), x=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


def fit_head(x: np.ndarray, y: np.ndarray, c: float) -> LinearHead:
    """Standardise, then a class-balanced multinomial logistic regression (L2, strength ``1 / c``)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    lr = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    lr.fit((x - mean) / scale, y)
    if len(lr.classes_) != len(ts.LABELS):
        raise ValueError("every label must be among the training clips")
    return LinearHead(mean, scale, lr.coef_, lr.intercept_)


def main() -> None:
    meta_path, metrics_path = ts.MODELS_DIR / "ser.json", ts.MODELS_DIR / "ser_metrics.json"
    meta, metrics = json.loads(meta_path.read_text()), json.loads(metrics_path.read_text())
    names = meta["members"]  # what ``train_ser export`` serves
    clips = load_ser_corpora()
    x, y = clip_features(clips), np.asarray([c.label for c in clips])
    held_mask = np.asarray([ts.is_held_out(c) for c in clips])
    held = ts.HeldOut([c for c, h in zip(clips, held_mask, strict=True) if h])

    # 1. selection: C and weight on the held-out speakers, against the selection CNNs
    cnn = ts.runs_overall(held, names)
    grid, best = [], None
    for c in C_GRID:
        head = fit_head(x[~held_mask], y[~held_mask], c).probs(x[held_mask])
        for w in (0.0, *WEIGHT_GRID):
            fused = fuse(cnn, head, w)
            scores = ts.corpus_scores(held.clips, held.y, fused.argmax(axis=1))
            grid.append({"C": c, "weight": w, "held_out": scores, "select": ts.selection_score(scores)})
            print(grid[-1], flush=True)
            if best is None or grid[-1]["select"] > best["select"]:
                best, best_fused = grid[-1], fused
    c, w = best["C"], best["weight"]
    report = ts.held_out_report(held, best_fused.argmax(axis=1))

    # 2. with half the held-out speakers added, on the speakers neither heard; the served temperature
    added = np.asarray([c.speaker in ts.ADDED["half"] for c in clips])
    rest, rest_clips, rest_y = ts.still_held_out(held)
    cnn_half = ts.runs_overall(held, names, "-half")[rest]
    head_half = fit_head(x[~held_mask | added], y[~held_mask | added], c).probs(x[held_mask][rest])
    fused_half = fuse(cnn_half, head_half, w)
    check = {
        "added": sorted(ts.ADDED["half"]),
        "scored_on": sorted({c.speaker for c in rest_clips}),
        "cnn_alone": ts.corpus_scores(rest_clips, rest_y, cnn_half.argmax(axis=1)),
        "functionals_alone": ts.corpus_scores(rest_clips, rest_y, head_half.argmax(axis=1)),
        "fused": ts.corpus_scores(rest_clips, rest_y, fused_half.argmax(axis=1)),
    }
    calibration = ts.calibration_on_real_speech(
        rest_clips, fused_half, rest_y, "the RAVDESS and CREMA-D speakers of scored_on, fused as served"
    )

    # 3. the served head: every speaker
    fit_head(x, y, c).save(ts.MODELS_DIR / HEAD_FILE)
    cnn_temperature = meta.get("functionals", {}).get("cnn_temperature", meta["temperature"])
    meta.update(
        version=ts.MODEL_VERSION,
        temperature=calibration["temperature"],
        uncertain_below=calibration["uncertain_below"],
        val_accuracy=round(ts.selection_score({k: v["accuracy"] for k, v in report.items()}), 4),
        functionals={
            "feature_set": FEATURE_SET,
            "file": HEAD_FILE,
            "weight": w,
            "classifier": f"standardised, class-balanced multinomial logistic regression, C={c}",
            "trained_on": "every clip of the training data above",
            "cnn_temperature": cnn_temperature,  # served when the head is off
        },
    )
    meta["ensemble"] = meta["ensemble"].split(";")[0] + (
        f"; overall = {1 - w:g} x the speech- and level-weighted window mean + {w:g} x a logistic "
        f"regression on the answer's openSMILE {FEATURE_SET} functionals"
    )
    meta["val_protocol"] = meta["val_protocol"].split("; fused")[0] + (
        "; fused with the functionals head fitted without those speakers (C and weight chosen there)"
    )
    meta["licence"] = meta["licence"].split("; openSMILE")[0] + (
        "; openSMILE (feature extraction): audEERING research licence, non-commercial use only"
    )
    metrics.setdefault("held_out_cnn_alone", metrics["held_out"])
    metrics.update(
        held_out=report,
        calibration=calibration,
        functionals={"selection_grid": grid, "chosen": {"C": c, "weight": w}, "added_speakers_check": check},
    )
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({"chosen": best, "added_speakers_check": check, "calibration": calibration}, indent=1))


if __name__ == "__main__":
    main()
