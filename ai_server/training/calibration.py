"""Confidence calibration for the served models: temperature scaling fitted on validation data, the
expected calibration error (ECE), and the threshold below which a prediction is served as ``uncertain``.

The service applies the fitted temperature (``temperature`` in the model's JSON) with
``LoadedModel.calibrate``, the same ``softmax(log p / T)`` as ``calibrated`` here.
"""

import numpy as np

# Calibrated confidence means expected accuracy: below 0.4 a prediction is wrong more often than right
# (3 times in 5), so the service shows it as uncertain rather than as an emotion.
UNCERTAIN_BELOW = 0.4


def calibrated(probs: np.ndarray, temperature: float) -> np.ndarray:
    z = np.log(np.clip(probs, 1e-7, 1.0)) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The temperature T (0.3-5, log grid) minimising the negative log-likelihood of ``calibrated(p, T)``."""

    def nll(t: float) -> float:
        return float(-np.mean(np.log(calibrated(probs, t)[np.arange(len(y)), y] + 1e-12)))

    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 200))
    return float(grid[int(np.argmin([nll(t) for t in grid]))])


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by the bins' shares."""
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        idx = (conf > lo) & (conf <= hi)
        if idx.any():
            ece += idx.mean() * abs(float(np.mean(pred[idx] == y[idx])) - float(conf[idx].mean()))
    return round(ece, 4)


def calibration_report(probs: np.ndarray, y: np.ndarray, fitted_on: str) -> dict:
    """Temperature, ECE before and after, and what the ``uncertain`` threshold flags on these samples."""
    t = fit_temperature(probs, y)
    cal = calibrated(probs, t)
    sure = cal.max(axis=1) >= UNCERTAIN_BELOW
    hits = cal.argmax(axis=1) == y
    return {
        "temperature": round(t, 3),
        "ece_before": expected_calibration_error(probs, y),
        "ece_after": expected_calibration_error(cal, y),
        "uncertain_below": UNCERTAIN_BELOW,
        "uncertain_share": round(float(1 - sure.mean()), 4),
        "accuracy_of_certain": round(float(hits[sure].mean()), 4) if sure.any() else None,
        "accuracy_of_uncertain": round(float(hits[~sure].mean()), 4) if (~sure).any() else None,
        "fitted_on": fitted_on,
    }
