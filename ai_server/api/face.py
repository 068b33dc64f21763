"""``POST /v1/face``: every face in a frame and its emotion."""

import time
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile

from ai_server.api.deps import get_registry
from ai_server.concurrency import run_blocking
from ai_server.config import get_settings
from ai_server.models.registry import ModelSpec
from ai_server.vision.decode import decode_image
from ai_server.vision.detect import DetectParams, find_face_crops
from ai_server.vision.preprocess import preprocess_face

router = APIRouter(tags=["face"])
MODELS = [ModelSpec(name="fer", kind="face", path_setting="fer_model_path")]


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
    """Detect faces (largest first) and classify each one's emotion."""
    started = time.perf_counter()
    fer = get_registry(request).get("fer")
    data = await image.read()
    equalise = not fer.meta.get("equalise_in_graph", False)
    boxes, batch = await run_blocking(_prepare, data, detect, fer.batcher.input_shape[0], equalise)
    faces = []
    if len(batch):
        probs = await fer.batcher.submit_many(batch)
        labels = fer.labels
        for box, p in zip(boxes, probs, strict=True):
            best = int(np.argmax(p))
            faces.append(
                {
                    "box": box,
                    "emotion": labels[best],
                    "confidence": round(float(p[best]), 4),
                    "scores": {label: round(float(v), 4) for label, v in zip(labels, p, strict=True)},
                }
            )
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return {"model": fer.display_name, "faces": faces, "elapsed_ms": elapsed_ms}
