"""FER2013 and RAF-DB loading for training and evaluation, and the fixed hold-out splits: preprocessed arrays
cached under /tmp (not in the repo)."""

from pathlib import Path

import cv2
import numpy as np

from ai_server.vision.preprocess import FACE_SIZE, preprocess_face

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fer2013"
CACHE_DIR = Path("/tmp/fasel-fer-cache")
SEED = 1234
HOLDOUT_FRACTION = 0.1  # of FER2013 Training


def _load_folders(folder: Path, cache_name: str, flags: int, prepare) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of ``folder/<label>/*.jpg`` read with ``cv2.imread(path, flags)`` and ``prepare``d, cached as
    ``CACHE_DIR/<cache_name>.npz``; y is the label's index in ``LABELS``."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"{cache_name}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return f["x"], f["y"]
    xs, ys = [], []
    for label_index, label in enumerate(LABELS):
        for path in sorted((folder / label).glob("*.jpg")):
            image = cv2.imread(str(path), flags)
            if image is not None:
                xs.append(prepare(image))
                ys.append(label_index)
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    np.savez(cache, x=x, y=y)
    return x, y


def load_split(split: str, data_dir: Path = DEFAULT_DATA, raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, y) for a split; x is preprocessed float32 (N, 48, 48, 1) or raw uint8 (N, 48, 48) if raw."""
    prepare = (lambda grey: grey) if raw else (lambda grey: preprocess_face(grey, FACE_SIZE))
    return _load_folders(data_dir / split, f"{split}{'_raw' if raw else ''}", cv2.IMREAD_GRAYSCALE, prepare)


DEFAULT_RAFDB = DEFAULT_DATA.parent / "rafdb"
RAFDB_HOLDOUT_FRACTION = 0.15


def load_rafdb(equalised: bool, data_dir: Path = DEFAULT_RAFDB) -> tuple[np.ndarray, np.ndarray]:
    """RAF-DB train (100x100 colour, aligned) through the served path: ``preprocess_face`` of the BGR image
    (grey, bicubic 48x48, [-1, 1]); cached like FER2013."""
    return _load_folders(
        data_dir / "train",
        f"rafdb{'_eq' if equalised else '_raw'}",
        cv2.IMREAD_COLOR,
        lambda image: preprocess_face(image, FACE_SIZE, equalise=equalised),
    )


def stratified_mask(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A fixed, stratified ``fraction`` of the samples (per class), as a boolean mask."""
    rng = np.random.default_rng(seed)
    hold = np.zeros(len(y), dtype=bool)
    for c in range(len(LABELS)):
        idx = np.flatnonzero(y == c)
        hold[rng.choice(idx, size=round(len(idx) * fraction), replace=False)] = True
    return hold


def holdout_mask(y: np.ndarray, seed: int = SEED) -> np.ndarray:
    """A fixed, stratified 10% of FER2013 ``train`` that no member is trained on."""
    return stratified_mask(y, HOLDOUT_FRACTION, seed)


def rafdb_holdout_mask(y: np.ndarray, seed: int = 4321) -> np.ndarray:
    """A fixed, stratified 15% of RAF-DB train kept out of training, for selection next to ``val``."""
    return stratified_mask(y, RAFDB_HOLDOUT_FRACTION, seed)


def scaled(x_raw: np.ndarray) -> np.ndarray:
    """Raw 48x48 uint8 faces -> unequalised input in [-1, 1], as ``preprocess_face(..., equalise=False)``."""
    return (x_raw.astype(np.float32) / 127.5 - 1.0)[..., None]


def split_train(equalised: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (x_train, y_train, x_holdout, y_holdout), preprocessed (equalised or not)."""
    x, y = load_split("train") if equalised else load_split("train", raw=True)
    if not equalised:
        x = scaled(x)
    hold = holdout_mask(y)
    return x[~hold], y[~hold], x[hold], y[hold]


def load_val(equalised: bool = True) -> tuple[np.ndarray, np.ndarray]:
    if equalised:
        return load_split("val")
    x, y = load_split("val", raw=True)
    return scaled(x), y
