"""The AI server's HTTP contract: every response body and the one error body, as pydantic models.

This module imports only pydantic and the standard library, so the web server's AI client imports it to parse
the AI server's answers (``FaceAnswer.model_validate(response.json())``) without loading TensorFlow or
OpenCV. The routes declare these models as their ``response_model``; the field names are the JSON's.

Errors: every 4xx/5xx body is an ``ErrorBody``: ``detail`` is a sentence for a person, ``errors`` is ``[]``
except for request validation (422), where it lists each problem (``loc``, ``msg``, ``type``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    """One problem of a request that failed validation: where (``loc``), what (``msg``) and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    detail: str = Field(description="what went wrong, as a sentence for a person")
    errors: list[ErrorItem] = Field(
        description="each problem of a request that failed validation (422), else []"
    )


class NotReadyBody(ErrorBody):
    """``GET /readyz`` while the models load (503): an error body with ``status: "loading"``."""

    status: Literal["loading"]


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    models: list[str] = Field(description="the loaded models")
    missing: list[str] = Field(description="models without a file on this server (their routes answer 503)")


class ModelInfo(BaseModel):
    """One loaded model, from its metadata JSON (``ai_server/models/<name>.json``): its labels live there."""

    name: str
    version: str | None
    kind: str = Field(description="face or voice")
    labels: list[str] = Field(description="the classes, in the order of the model's outputs")
    input_size: list[int] | None
    val_accuracy: float | None
    training_data: str | None
    licence: str | None
    temperature: float | None = Field(description="calibration temperature (softmax(log p / T))")
    uncertain_below: float | None = Field(
        description="calibrated confidence below which a prediction is uncertain"
    )


class Prediction(BaseModel):
    """A calibrated prediction: the top label, its probability, every label's probability, and whether it is
    uncertain (and why: ``face too small``, ``blurred``, ``too little speech``, ``low confidence``)."""

    emotion: str
    confidence: float
    scores: dict[str, float]
    uncertain: bool
    uncertain_reason: str | None


class Face(Prediction):
    box: list[int] = Field(min_length=4, max_length=4, description="[x, y, w, h] in the frame's pixels")


class FaceAnswer(BaseModel):
    """``POST /v1/face``: every face found (largest first) and its emotion."""

    model: str = Field(description="<name>-<version> of the model")
    faces: list[Face]
    elapsed_ms: float


class FrameError(BaseModel):
    """Why one frame of a batch was not analysed: the status it would have had alone and a sentence."""

    status: int
    detail: str


class FrameResult(BaseModel):
    """One frame of ``POST /v1/face/batch``: its faces and whether they were found near the hint, or its
    ``error`` (then ``faces`` is empty)."""

    faces: list[Face]
    roi: bool = Field(description="true: the face was found near the frame's hint box")
    error: FrameError | None


class BatchTimings(BaseModel):
    """Milliseconds of the batch in each stage (decode, detect, preprocess summed over frames; model once)."""

    decode: float
    detect: float
    preprocess: float
    model: float


class BatchAnswer(BaseModel):
    """``POST /v1/face/batch``: one result per frame, in order."""

    model: str
    results: list[FrameResult]
    timings_ms: BatchTimings
    elapsed_ms: float


class Segment(Prediction):
    """One window of a recording, in seconds from the start of the recording as received."""

    start_s: float
    end_s: float


class VoiceAnswer(BaseModel):
    """``POST /v1/voice``: the emotion of each window of speech and of the whole answer (``overall``: null
    when the recording holds too little speech; ``note`` then says why, and is absent otherwise)."""

    model: str
    duration_s: float
    segments: list[Segment]
    overall: Prediction | None
    note: str | None = None
    elapsed_ms: float
