"""The served FER graph is built by ``train_fer.build_ensemble``: a weighted mean over each member's views."""

from __future__ import annotations

import cv2
import keras
import numpy as np

from ai_server.models.layers import CentreZoom, HistogramEqualisation
from ai_server.training.train_fer import build_ensemble
from ai_server.vision.preprocess import preprocess_face
from tests.support.data import LABELS, val_faces


def tiny_member(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input((48, 48, 1))
    return keras.Model(inp, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inp)))


def test_ensemble_is_the_weighted_mean_over_each_members_views() -> None:
    greys = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for label in LABELS for p in val_faces(label, 2)]
    x = np.stack([preprocess_face(g, equalise=False) for g in greys])
    raw_member, eq_member = tiny_member(1), tiny_member(2)
    model = build_ensemble([(raw_member, False), (eq_member, True)], ["zoom", "flip"], [1, 2])

    def mean_over(member: keras.Model, views: list[np.ndarray]) -> np.ndarray:
        return np.mean([member.predict(v, verbose=0) for v in views], axis=0)

    zoomed = CentreZoom(1.1)(x).numpy()
    raw = mean_over(raw_member, [x, x[:, :, ::-1], zoomed, zoomed[:, :, ::-1]])
    eq = HistogramEqualisation()(x).numpy()
    equalised = mean_over(eq_member, [eq, eq[:, :, ::-1]])
    expected = (raw + 2 * equalised) / 3
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert not np.allclose(raw, equalised, atol=1e-3)  # the two members do differ
