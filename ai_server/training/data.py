"""FER2013 loading for training and evaluation: preprocessed arrays cached under /tmp (not in the repo)."""

from pathlib import Path

import cv2
import numpy as np

from ai_server.vision.preprocess import FACE_SIZE, preprocess_face

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fer2013"
CACHE_DIR = Path("/tmp/fasel-fer-cache")


def load_split(split: str, data_dir: Path = DEFAULT_DATA, raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, y) for a split; x is preprocessed float32 (N, 48, 48, 1) or raw uint8 (N, 48, 48) if raw."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"{split}{'_raw' if raw else ''}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return f["x"], f["y"]
    xs, ys = [], []
    for label_index, label in enumerate(LABELS):
        for path in sorted((data_dir / split / label).glob("*.jpg")):
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if grey is None:
                continue
            xs.append(grey if raw else preprocess_face(grey, FACE_SIZE))
            ys.append(label_index)
    x = np.stack(xs)
    y = np.asarray(ys, dtype=np.int64)
    np.savez(cache, x=x, y=y)
    return x, y


DEFAULT_RAFDB = DEFAULT_DATA.parent / "rafdb"
RAFDB_HOLDOUT_FRACTION = 0.15


def load_rafdb(equalised: bool, data_dir: Path = DEFAULT_RAFDB) -> tuple[np.ndarray, np.ndarray]:
    """RAF-DB train (100x100 colour, aligned) through the served path: ``preprocess_face`` of the BGR image
    (grey, bicubic 48x48, [-1, 1]); cached like FER2013."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"rafdb{'_eq' if equalised else '_raw'}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return f["x"], f["y"]
    xs, ys = [], []
    for label_index, label in enumerate(LABELS):
        for path in sorted((data_dir / "train" / label).glob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                xs.append(preprocess_face(image, FACE_SIZE, equalise=equalised))
                ys.append(label_index)
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    np.savez(cache, x=x, y=y)
    return x, y


def rafdb_holdout_mask(y: np.ndarray, seed: int = 4321) -> np.ndarray:
    """A fixed, stratified 15% of RAF-DB train kept out of training, for selection next to ``val``."""
    rng = np.random.default_rng(seed)
    hold = np.zeros(len(y), dtype=bool)
    for c in range(len(LABELS)):
        idx = np.flatnonzero(y == c)
        hold[rng.choice(idx, size=round(len(idx) * RAFDB_HOLDOUT_FRACTION), replace=False)] = True
    return hold
