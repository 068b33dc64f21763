"""``POST /v1/face``: every face in a frame and its emotion."""

import time
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile

from ai_server.api.deps import get_registry
from ai_server.concurrency import run_blocking
from ai_server.config import get_settings
from ai_server.models.registry import LoadedModel, ModelSpec
from ai_server.vision.decode import decode_image
from ai_server.vision.detect import DetectParams, find_face_crops
from ai_server.vision.preprocess import preprocess_face, sharpness

router = APIRouter(tags=["face"])
MODELS = [ModelSpec(name="fer", kind="face", path_setting="fer_model_path")]
MIN_FACE_PX = 40  # a smaller face (in the frame as sent) is too small to read an expression from
MIN_SHARPNESS = 60.0  # variance of the Laplacian of the 48x48 face below which it counts as blurred


def _face(fer: LoadedModel, box: list[int], face: np.ndarray, p: np.ndarray) -> dict:
    """One face's label, calibrated confidence and scores, with ``uncertain`` and why."""
    p = fer.calibrate(p)
    best = int(np.argmax(p))
    reason = None
    if min(box[2], box[3]) < MIN_FACE_PX:
        reason = "face too small"
    elif sharpness(face) < MIN_SHARPNESS:
        reason = "blurred"
    elif fer.is_uncertain(p):
        reason = "low confidence"
    return {
        "box": box,
        "emotion": fer.labels[best],
        "confidence": round(float(p[best]), 4),
        "scores": {label: round(float(v), 4) for label, v in zip(fer.labels, p, strict=True)},
        "uncertain": reason is not None,
        "uncertain_reason": reason,
    }


def _prepare(data: bytes, detect: bool, size: int, equalise: bool) -> tuple[list[list[int]], np.ndarray]:
    """Decode, detect, crop and preprocess (blocking: runs in the thread pool)."""
    s = get_settings()
    image, reduction = decode_image(
        data, s.max_image_bytes, s.max_image_pixels, keep_long_side=s.detect_max_side if detect else None
    )
    params = DetectParams(
        s.detect_max_side,
        s.detect_min_face_fraction,
        s.detect_scale_factor,
        s.detect_min_neighbors,
        s.face_margin,
        s.detect_verify,
        s.detect_verify_min_neighbors,
    )
    boxes, crops = find_face_crops(image, detect, params, scale=reduction)
    batch = (
        np.stack([preprocess_face(c, size, equalise) for c in crops])
        if crops
        else np.zeros((0, size, size, 1))
    )
    return [b.as_list() for b in boxes], batch.astype(np.float32)


@router.post("/v1/face")
async def face(
    request: Request,
    image: Annotated[UploadFile, File(description="a JPEG, PNG or WebP frame")],
    detect: Annotated[
        bool, Query(description="find faces with the Haar cascade; false: the image is one face")
    ] = True,
) -> dict:
    """Detect faces (largest first) and classify each one's emotion.

    Probabilities are calibrated (temperature scaling fitted on validation faces). A face is ``uncertain``
    (with ``uncertain_reason``) when it is too small, blurred or its calibrated confidence is below the
    model's threshold: show it as uncertain, not as an emotion.
    """
    started = time.perf_counter()
    fer = get_registry(request).get("fer")
    data = await image.read()
    equalise = not fer.meta.get("equalise_in_graph", False)
    boxes, batch = await run_blocking(_prepare, data, detect, fer.batcher.input_shape[0], equalise)
    faces = []
    if len(batch):
        probs = await fer.batcher.submit_many(batch)
        faces = [_face(fer, box, face, p) for box, face, p in zip(boxes, batch, probs, strict=True)]
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return {"model": fer.display_name, "faces": faces, "elapsed_ms": elapsed_ms}
