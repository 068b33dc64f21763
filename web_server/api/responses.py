"""The error statuses a route documents, each with the one error body (`models/errors.py`).

`errors(401, 404)` gives FastAPI's `responses=` for those statuses; a route passes its own sentence for a
status where the shared one says too little: `errors(403, 404, descriptions={403: "..."})`. Every API route
also documents 500 and 503 (the database is unreachable) through `COMMON`, mounted with the API router.
"""

from __future__ import annotations

from typing import Any

from web_server.models.errors import ErrorBody

DESCRIPTIONS: dict[int, str] = {
    400: "The request body cannot be read (not UTF-8 JSON, or a broken form), or a malformed header.",
    401: "Not logged in, or the session is invalid, expired, logged out or revoked (`WWW-Authenticate`).",
    403: "Your role, or the emotion-analysis mode, does not allow this.",
    404: "Not found, or not yours to see.",
    409: "Not possible in the current state (e.g. the attempt has been submitted).",
    413: "The request body is too large.",
    415: "Not a supported media type.",
    416: "The `Range` asked for is outside the file.",
    422: "Invalid input: `errors` lists each field with what is wrong.",
    429: "Too many requests: try again after `Retry-After` seconds.",
    500: "A server bug: nothing was done.",
    503: "The database cannot be reached (or the server is busy): try again after `Retry-After` seconds.",
}

Responses = dict[int | str, dict[str, Any]]


def errors(*codes: int, descriptions: dict[int, str] | None = None) -> Responses:
    """`responses=` entries for `codes`, each with the error body model."""
    own = descriptions or {}
    return {code: {"model": ErrorBody, "description": own.get(code) or DESCRIPTIONS[code]} for code in codes}


COMMON = errors(500, 503)
"""Every API route: a bug, or the database cannot be reached."""


def content(media_types: list[str], description: str, binary: bool = True) -> dict[str, Any]:
    """A success response that is a file (CSV, zip, audio), not JSON."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {"description": description, "content": {m: {"schema": schema} for m in media_types}}


TOTAL_COUNT: Responses = {
    200: {
        "description": "One page; `X-Total-Count`: the number of rows over all pages.",
        "headers": {"X-Total-Count": {"schema": {"type": "integer"}, "description": "rows over all pages"}},
    }
}
