"""``POST /v1/face``: every face in a frame and its emotion; ``POST /v1/face/batch``: many frames in one
request (the web server's analysis workers), each with an optional hint box to search around first."""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from ai_server import metrics
from ai_server.api.deps import error_responses, get_registry
from ai_server.concurrency import run_blocking
from ai_server.config import get_settings
from ai_server.errors import AIError, InvalidInput, PayloadTooLarge
from ai_server.models.registry import LoadedModel, ModelSpec
from ai_server.schemas import BatchAnswer, BatchTimings, Face, FaceAnswer, FrameError, FrameResult
from ai_server.vision.decode import decode_image
from ai_server.vision.detect import Box, DetectParams, crop_face, find_face_crops
from ai_server.vision.preprocess import preprocess_face, sharpness, to_grey
from ai_server.vision.roi import detect_near, parse_hint

router = APIRouter(tags=["face"])
MODELS = [ModelSpec(name="fer", kind="face", path_setting="fer_model_path")]
MIN_FACE_PX = 40  # a smaller face (in the frame as sent) is too small to read an expression from
MIN_SHARPNESS = 60.0  # variance of the Laplacian of the 48x48 face below which it counts as blurred


def _face(fer: LoadedModel, box: list[int], face: np.ndarray, p: np.ndarray) -> Face:
    """One face's box and prediction, uncertain when the face is too small or blurred."""
    issue = None
    if min(box[2], box[3]) < MIN_FACE_PX:
        issue = "face too small"
    elif sharpness(face) < MIN_SHARPNESS:
        issue = "blurred"
    return Face(box=box, **fer.prediction(p, issue))


@dataclass
class Prepared:
    """One frame ready for the model: face boxes (full-frame pixels), their model inputs, the time of each
    stage in seconds, and whether the face was found near the hint (``roi``)."""

    boxes: list[list[int]]
    batch: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    roi: bool = False


def _prepare(data: bytes, detect: bool, size: int, equalise: bool, hint: object = None) -> Prepared:
    """Decode, detect (near ``hint`` first, when given), crop and preprocess (blocking: thread pool)."""
    s = get_settings()
    t0 = time.perf_counter()
    image, reduction = decode_image(
        data, s.max_image_bytes, s.max_image_pixels, keep_long_side=s.detect_max_side if detect else None
    )
    t1 = time.perf_counter()
    params = DetectParams.from_settings(get_settings())
    roi = False
    near = parse_hint(hint, reduction, image.shape[:2]) if detect and hint is not None else None
    if near is not None:
        grey = to_grey(image)
        found = detect_near(grey, near, params)
        roi = bool(found)
        metrics.ROI.labels(result="hit" if roi else "fallback").inc()
    elif detect:
        metrics.ROI.labels(result="whole").inc()
    if roi:
        crops = [crop_face(grey, b, params.margin) for b in found]
        boxes = [Box(b.x * reduction, b.y * reduction, b.w * reduction, b.h * reduction) for b in found]
    else:
        boxes, crops = find_face_crops(image, detect, params, scale=reduction)
    t2 = time.perf_counter()
    batch = (
        np.stack([preprocess_face(c, size, equalise) for c in crops])
        if crops
        else np.zeros((0, size, size, 1))
    )
    t3 = time.perf_counter()
    timings = {"decode": t1 - t0, "detect": t2 - t1, "preprocess": t3 - t2}
    for stage, seconds in timings.items():
        metrics.STAGE.labels(stage=stage).observe(seconds)
    return Prepared([b.as_list() for b in boxes], batch.astype(np.float32), timings, roi)


async def _classify(fer: LoadedModel, prepared: list[Prepared]) -> tuple[list[list[Face]], float]:
    """Every face of every frame through ONE model submission; per frame its faces, and the model time."""
    batches = [p.batch for p in prepared if len(p.batch)]
    if not batches:
        return [[] for _ in prepared], 0.0
    started = time.perf_counter()
    probs = await fer.batcher.submit_many(np.concatenate(batches, axis=0))
    model_s = time.perf_counter() - started
    out, i = [], 0
    for p in prepared:
        n = len(p.batch)
        out.append(
            [
                _face(fer, box, face, pr)
                for box, face, pr in zip(p.boxes, p.batch, probs[i : i + n], strict=True)
            ]
        )
        i += n
    per_frame = model_s / max(1, len(prepared))
    for _ in prepared:
        metrics.STAGE.labels(stage="model").observe(per_frame)
    return out, model_s


@router.post("/v1/face", response_model=FaceAnswer, responses=error_responses(400, 413, 415, 422, 500, 503))
async def face(
    request: Request,
    image: Annotated[UploadFile, File(description="a JPEG, PNG or WebP frame")],
    detect: Annotated[
        bool, Query(description="find faces with the Haar cascade; false: the image is one face")
    ] = True,
) -> FaceAnswer:
    """Detect faces (largest first) and classify each one's emotion.

    Probabilities are calibrated (temperature scaling fitted on validation faces). A face is ``uncertain``
    (with ``uncertain_reason``) when it is too small, blurred or its calibrated confidence is below the
    model's threshold: show it as uncertain, not as an emotion.
    """
    started = time.perf_counter()
    metrics.REQUESTS.labels(route="face").inc()
    fer = get_registry(request).get("fer")
    data = await image.read()
    equalise = not fer.meta.get("equalise_in_graph", False)
    try:
        prepared = await run_blocking(_prepare, data, detect, fer.batcher.input_shape[0], equalise)
    except AIError as exc:
        metrics.ERRORS.labels(kind=type(exc).__name__).inc()
        raise
    [faces], _ = await _classify(fer, [prepared])
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return FaceAnswer(model=fer.display_name, faces=faces, elapsed_ms=elapsed_ms)


def _hints(text: str | None, n: int) -> list:
    if text is None or not text.strip():
        return [None] * n
    try:
        hints = json.loads(text)
    except ValueError:
        raise InvalidInput("hints must be a JSON list with one box [x, y, w, h] or null per image.") from None
    if not isinstance(hints, list) or len(hints) != n:
        raise InvalidInput(f"hints must be a JSON list of {n} entries (one per image), box or null.")
    return hints


async def _prepare_one(data: bytes, size: int, equalise: bool, hint: object) -> Prepared | FrameError:
    try:
        return await run_blocking(_prepare, data, True, size, equalise, hint)
    except AIError as exc:  # this frame only: the others of the batch are analysed
        metrics.ERRORS.labels(kind=type(exc).__name__).inc()
        return FrameError(status=exc.status_code, detail=exc.detail)


@router.post("/v1/face/batch", response_model=BatchAnswer, responses=error_responses(400, 413, 422, 500, 503))
async def face_batch(
    request: Request,
    images: Annotated[list[UploadFile], File(description="webcam frames: JPEG, PNG or WebP")],
    hints: Annotated[
        str | None,
        Form(
            description="JSON list, one entry per image: the face box [x, y, w, h] to search around, or null"
        ),
    ] = None,
) -> BatchAnswer:
    """Many frames in one request: per frame (in order) the same ``faces`` as ``POST /v1/face`` (with
    ``uncertain``/``uncertain_reason``) and ``roi`` (true: the face was found near its hint; otherwise the
    whole frame was searched), or ``error: {status, detail}`` for a frame that cannot be decoded (the rest
    of the batch is analysed). All faces of the batch go through the model together. ``timings_ms``: the
    batch's time in each stage (decode, detect, preprocess summed over frames; model once)."""
    started = time.perf_counter()
    s = get_settings()
    metrics.REQUESTS.labels(route="face_batch").inc()
    if len(images) > s.batch_max_images:
        raise PayloadTooLarge(f"At most {s.batch_max_images} images per batch; {len(images)} were sent.")
    boxes = _hints(hints, len(images))
    metrics.BATCH_IMAGES.observe(len(images))
    fer = get_registry(request).get("fer")
    equalise = not fer.meta.get("equalise_in_graph", False)
    size = fer.batcher.input_shape[0]
    datas = [await image.read() for image in images]
    outcomes = await asyncio.gather(
        *(_prepare_one(d, size, equalise, h) for d, h in zip(datas, boxes, strict=True))
    )
    prepared = [o for o in outcomes if isinstance(o, Prepared)]
    faces, model_s = await _classify(fer, prepared)
    timings = {"decode": 0.0, "detect": 0.0, "preprocess": 0.0, "model": model_s}
    for p in prepared:
        for stage, seconds in p.timings.items():
            timings[stage] += seconds
    found = iter(zip(prepared, faces, strict=True))
    results = []
    for outcome in outcomes:
        if isinstance(outcome, FrameError):
            results.append(FrameResult(faces=[], roi=False, error=outcome))
        else:
            p, f = next(found)
            results.append(FrameResult(faces=f, roi=p.roi, error=None))
    return BatchAnswer(
        model=fer.display_name,
        results=results,
        timings_ms=BatchTimings(**{k: round(v * 1000, 2) for k, v in timings.items()}),
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
