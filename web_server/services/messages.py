"""Validation errors said as a person would: "password must be at least 8 characters long", not pydantic's
"String should have at least 8 characters" (the browser app does the same for 422 bodies:
frontend/src/api.js)."""

from __future__ import annotations

import re

from pydantic import ValidationError

_PLAIN = [
    (re.compile(r"^String should have at least (\d+) characters?$"), "must be at least {} characters long"),
    (re.compile(r"^String should have at most (\d+) characters?$"), "must be at most {} characters long"),
    (re.compile(r"^Field required$"), "is required"),
    (re.compile(r"^String should match pattern"), "contains characters that are not allowed"),
    (re.compile(r"^Input should be a valid integer"), "must be a whole number"),
    (re.compile(r"^Input should be (.+)$"), "must be {}"),
]


def plain(message: str) -> str:
    for pattern, say in _PLAIN:
        found = pattern.match(message)
        if found:
            return say.format(*(g.replace("'", "") for g in found.groups()))
    return message


def field_errors(exc: ValidationError) -> str:
    """One sentence per field: "Password must be at least 8 characters long. Role must be student, ..."."""
    parts = []
    for error in exc.errors():
        field = " ".join(str(p).replace("_", " ") for p in error["loc"] if not isinstance(p, int)) or "row"
        message = error["msg"]
        # a validator's own message is a sentence already
        text = message.removeprefix("Value error, ") if message.startswith("Value error, ") else None
        text = (text or f"{field} {plain(message)}").rstrip(".")
        parts.append(text[0].upper() + text[1:])
    return ". ".join(parts) + "."
