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


def test_served_members_are_the_keras_twins_of_the_gpu_networks() -> None:
    """Members trained in PyTorch (``train_fer_gpu``) are served as ``build_resnet_stages`` twins: the twin,
    given the served weights under the keys the GPU run writes, answers exactly as the served member."""
    from ai_server.training.train_fer import MEMBERS, MODELS_DIR, set_keyed_weights
    from ai_server.training.train_fer_gpu import GPU_MEMBERS

    served = keras.models.load_model(MODELS_DIR / "fer.keras", compile=False)
    names = [layer.name for layer in served.layers if layer.name in GPU_MEMBERS]
    assert names, "the served ensemble has no member trained on the GPU"
    greys = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for label in LABELS for p in val_faces(label, 3)]
    x = np.stack([preprocess_face(g, equalise=False) for g in greys])
    for name in names:
        member = served.get_layer(name)
        twin = MEMBERS[name].build()
        set_keyed_weights(
            twin, {f"{layer.name}/{w.name}": w.numpy() for layer in member.layers for w in layer.weights}
        )
        np.testing.assert_allclose(twin.predict(x, verbose=0), member.predict(x, verbose=0), atol=1e-6)
        assert len(set(member.predict(x, verbose=0).argmax(1))) > 2  # a trained network, not a constant
