"""The one face preprocessing function, shared by training and serving (FAFERII, FASEL thesis).

grey face crop -> bicubic resize to the model's input size -> histogram equalisation -> floats in [-1, 1].
"""

import cv2
import numpy as np

FACE_SIZE = 48


def to_grey(image: np.ndarray) -> np.ndarray:
    """Return a single-channel uint8 image from a grey, BGR or BGRA array."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def preprocess_face(crop: np.ndarray, size: int = FACE_SIZE, equalise: bool = True) -> np.ndarray:
    """Turn a face crop (grey or BGR uint8) into a float32 array of shape (size, size, 1) in [-1, 1].

    ``equalise=False`` leaves the equalisation to the model: the served ensemble runs the identical
    ``HistogramEqualisation`` layer in its graph (see ``ai_server/models/layers.py``).
    """
    grey = to_grey(crop)
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    if grey.shape != (size, size):
        grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC)
    if equalise:
        grey = cv2.equalizeHist(grey)
    return (grey.astype(np.float32) / 127.5 - 1.0)[:, :, None]


def sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian of a preprocessed face (``preprocess_face`` output, in [-1, 1]) on the
    0-255 scale: low values mean a blurred face whose expression cannot be read reliably."""
    grey = ((face[:, :, 0] + 1.0) * 127.5).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())
