"""The JWT signing key: SECRET_KEY when set, else a random key generated once and kept in DATA_DIR.

The generated key lives in `DATA_DIR/secret_key` (mode 0600). It is created atomically (O_EXCL), so several
web server processes on one machine that start together end up with the same key. A key in the repository
(the old development key) or a short or repetitive key is refused at start-up with a clear message.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections import Counter
from pathlib import Path

# Published in earlier versions of this repository: anyone could sign tokens with it. Never accepted.
KNOWN_PUBLIC_KEYS = frozenset({"dev-secret-key-change-me-in-production-0123456789"})
MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARS = 10
MIN_ENTROPY_BITS = 100.0  # of the key's characters, as measured by their frequencies
HOW_TO = "for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def key_problem(key: str) -> str | None:
    """Why `key` must not sign tokens, or None when it is acceptable."""
    if key in KNOWN_PUBLIC_KEYS:
        return "SECRET_KEY is the development key published in the FASEL repository"
    if len(key) < MIN_KEY_LENGTH:
        return f"SECRET_KEY must be at least {MIN_KEY_LENGTH} characters long (it has {len(key)})"
    counts = Counter(key)
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if len(counts) < MIN_DISTINCT_CHARS or bits < MIN_ENTROPY_BITS or _repeats(key):
        return "SECRET_KEY is too predictable (few distinct characters or a repeated pattern)"
    return None


def _repeats(key: str) -> bool:
    """True when the key is a short pattern repeated (e.g. 'abcdefghij' four times)."""
    for period in range(1, len(key) // 2 + 1):
        if all(key[i] == key[i - period] for i in range(period, len(key))):
            return True
    return False


def check_key(key: str) -> str:
    problem = key_problem(key)
    if problem:
        raise ValueError(f"{problem}: set a private random value ({HOW_TO}), or leave it empty to use a "
                         "key generated on first start")  # fmt: skip
    return key


def load_or_create(path: Path) -> str:
    """The key stored at `path`, created (random, mode 0600) if missing; safe when processes race."""
    for _ in range(50):
        try:
            key = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            key = None
        if key:
            return check_key(key)
        if key is None and _create(path):
            continue  # read back what we wrote
        time.sleep(0.05)  # another process is writing it: read again
    raise RuntimeError(f"Could not read the generated secret key at {path}")


def _create(path: Path) -> bool:
    """Write a new key at `path` unless it exists; True when this process created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return True
