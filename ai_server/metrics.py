"""Prometheus metrics of the AI server (``GET /metrics``): per-stage time per frame (decode, detect,
preprocess, model), requests and their sizes, region-search hits, errors by kind."""

from prometheus_client import Counter, Histogram

STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
STAGE = Histogram(
    "fasel_ai_stage_seconds", "Time per frame (or recording) in each stage", ["stage"], buckets=STAGE_BUCKETS
)
REQUESTS = Counter("fasel_ai_requests_total", "Requests by route", ["route"])
BATCH_IMAGES = Histogram(
    "fasel_ai_batch_images", "Frames per /v1/face/batch request", buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
ROI = Counter(
    "fasel_ai_face_search_total",
    "Face searches: hit (found near the hint), fallback (hint given, whole frame searched), whole (no hint)",
    ["result"],
)
ERRORS = Counter("fasel_ai_errors_total", "Refused inputs and failures by kind", ["kind"])
