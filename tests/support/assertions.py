"""Assertions shared by the test suites."""

import httpx


def assert_clear_error(r: httpx.Response, status: int, *words: str) -> None:
    """`r` is an error with this status and a sentence for a person in `detail` naming each of `words`."""
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10
    for word in words:
        assert word.lower() in detail.lower(), detail
