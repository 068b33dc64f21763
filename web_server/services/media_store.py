"""Media files on disk, owner-only (folders 0700, files 0600), stored atomically with their database rows.

`staged()` writes the bytes to a temporary name in the final folder, renames the complete file to its final
name and yields that relative path; the caller stores the rows and commits inside the block. On any error
the file is removed, so no file is left without its row, and a row is never committed before its whole file
is in place (an analysis worker may claim the row the moment it is committed).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def private_dir(root: Path, relative: str) -> Path:
    """`root/relative`, each missing level created owner-only; `root` itself is made owner-only too."""
    root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _restrict(root)
    folder = root
    for part in Path(relative).parts:
        folder = folder / part
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
        _restrict(folder)
    return folder


def _restrict(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not ours (a mounted volume): leave it
        if folder.stat().st_mode & 0o077:
            folder.chmod(DIR_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by the owner only (fails if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
    finally:
        if fd >= 0:
            os.close(fd)


@dataclass
class StagedFile:
    relative: str  # the final path, relative to the media folder: what the rows store
    temporary: Path
    final: Path


@contextlib.contextmanager
def staged(media_dir: Path, folder: str, suffix: str, data: bytes) -> Iterator[StagedFile]:
    """Yield a `StagedFile` for `data` under `media_dir/folder`, already complete under its final name;
    removed when the block (which stores and commits its rows) fails."""
    name = f"{uuid.uuid4().hex}{suffix}"
    target_dir = private_dir(media_dir, folder)
    staged_file = StagedFile(f"{folder}/{name}", target_dir / f"{name}.part", target_dir / name)
    try:
        write_private(staged_file.temporary, data)
        staged_file.temporary.replace(staged_file.final)  # atomic: never seen half-written
        yield staged_file
    except BaseException:
        for path in (staged_file.temporary, staged_file.final):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
