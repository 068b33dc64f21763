"""Capture media files under MEDIA_DIR (written through `services/media_store.py`, owner-only)."""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path

from web_server.capture.checks import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS
from web_server.core.config import Settings
from web_server.models.emotion import Modality
from web_server.services import media_store

log = logging.getLogger(__name__)


def media_path(media_dir: Path, relative: str) -> Path:
    return media_dir / relative


def staged_media(
    settings: Settings, attempt_id: int, modality: str, data: bytes, content_type: str, keep: bool = True
) -> contextlib.AbstractContextManager[media_store.StagedFile | None]:
    """The bytes as a file under MEDIA_DIR/attempts/<attempt>/<modality>/ (owner-only), in place before
    the `with` block stores and commits the rows, removed when it fails; None: not kept."""
    if not keep:
        return contextlib.nullcontext(None)
    table = IMAGE_EXTENSIONS if modality == Modality.face else AUDIO_EXTENSIONS
    ext = table.get((content_type or "").split(";")[0].strip().lower(), ".bin")
    return media_store.staged(settings.MEDIA_DIR, f"attempts/{int(attempt_id)}/{modality}", ext, data)


def remove_attempt_media(media_dir: Path, attempt_ids: list[int]) -> None:
    """Delete the media folders of attempts being deleted (frames, recordings, pending uploads)."""
    for attempt_id in attempt_ids:
        shutil.rmtree(media_dir / "attempts" / str(int(attempt_id)), ignore_errors=True)


def remove_media_file(media_dir: Path, relative: str | None) -> None:
    if relative:
        with contextlib.suppress(FileNotFoundError):
            (media_dir / relative).unlink()
