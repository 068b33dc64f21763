"""Where the tests and benches find the repository and the shared training data (never downloaded).

The data lives next to the checkout (``../shared/data``) or at ``/work/shared/data``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
FER_VAL = DATA / "fer2013" / "val"
RAF_TRAIN = DATA / "rafdb" / "train"
RAVDESS = DATA / "ravdess"
LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def val_faces(label: str, n: int, start: int = 0) -> list[Path]:
    """The first ``n`` (after ``start``) FER2013 val images of ``label``, in a fixed order."""
    return sorted((FER_VAL / label).glob("*.jpg"))[start : start + n]


def ravdess_clip(emotion_code: str = "03", actor: int = 1) -> Path:
    """A RAVDESS speech clip: emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fear..."""
    clips = sorted((RAVDESS / f"Actor_{actor:02d}").glob(f"03-01-{emotion_code}-*.flac"))
    assert clips, f"no RAVDESS clip for emotion {emotion_code} actor {actor}"
    return clips[0]
