"""Prometheus metrics of the capture pipeline (served at `/metrics` with the queue's depth and age).

Each process has its own counters (uploads it accepted, batches its workers ran); the queue's depth and age
are read from the database at scrape time, so every process reports the same shared queue.
"""

from __future__ import annotations

from anyio import to_thread
from fastapi import Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func
from sqlmodel import Session, select

from web_server.models.base import utcnow
from web_server.models.emotion import CaptureMedia, MediaStatus

UPLOADS = Counter("fasel_uploads_total", "Uploads answered, by modality and status", ["modality", "status"])
ANALYSED = Counter(
    "fasel_analysis_outcomes_total",
    "Queued media handled by the workers: analysed, rejected (by the AI server), retried, gave_up, dropped",
    ["modality", "outcome"],
)
BATCH_SIZE = Histogram(
    "fasel_analysis_batch_size",
    "Media per worker batch (frames per AI server request; recordings analysed together)",
    ["modality"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
LAG = Histogram(
    "fasel_analysis_lag_seconds",
    "From upload to stored analysis",
    ["modality"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60, 300, 1800),
)
ERRORS = Counter("fasel_errors_total", "Errors by kind", ["kind"])


def record_applied(modality: str, claimed, outcomes, applied) -> None:
    """Outcome counts and, for analysed media, the time since their upload."""
    for outcome in ("analysed", "rejected", "retried", "gave_up", "dropped"):
        n = getattr(applied, outcome)
        if n:
            ANALYSED.labels(modality=modality, outcome=outcome).inc(n)
    done = {o.media_id for o in outcomes if o.result is not None}
    now = utcnow()
    for media in claimed:
        if media.id in done:
            LAG.labels(modality=modality).observe(max(0.0, (now - media.created_at).total_seconds()))


def queue_stats(session: Session) -> dict[str, tuple[int, float]]:
    """Per modality: media waiting for analysis, and the age in seconds of the oldest."""
    rows = session.exec(
        select(CaptureMedia.modality, func.count(), func.min(CaptureMedia.created_at))
        .where(CaptureMedia.status == MediaStatus.pending)
        .group_by(CaptureMedia.modality)
    ).all()
    now = utcnow()
    stats = {"face": (0, 0.0), "voice": (0, 0.0)}
    for modality, count, oldest in rows:
        stats[modality] = (int(count), max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    return stats


async def metrics_endpoint(request: Request) -> Response:
    """`GET /metrics`: this process's counters and the shared queue's depth and age (Prometheus text)."""
    engine = request.app.state.engine

    def read() -> dict[str, tuple[int, float]]:
        with Session(engine) as session:
            return queue_stats(session)

    try:
        stats = await to_thread.run_sync(read)
    except Exception:  # noqa: BLE001 - the database is down: say so in the metrics, do not fail them
        ERRORS.labels(kind="metrics_database").inc()
        stats = {}
    queue = CollectorRegistry()
    depth = Gauge("fasel_queue_depth", "Media waiting for analysis", ["modality"], registry=queue)
    age = Gauge(
        "fasel_queue_oldest_seconds",
        "Age of the oldest media waiting for analysis",
        ["modality"],
        registry=queue,
    )
    for modality, (count, oldest) in stats.items():
        depth.labels(modality=modality).set(count)
        age.labels(modality=modality).set(oldest)
    return Response(generate_latest() + generate_latest(queue), media_type=CONTENT_TYPE_LATEST)
