"""The one error body of every 4xx and 5xx answer of the web server (and of the AI server)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """One invalid field: where it is (`["body", "password"]`), what is wrong, the error's kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """`detail`: a sentence a person understands. `errors`: the invalid fields of a 422, else empty."""

    detail: str
    errors: list[FieldError] = Field(default_factory=list)
