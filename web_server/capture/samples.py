"""AI server results -> emotion samples: one per frame (the largest face), one per voice segment."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from web_server.models.attempt import Attempt
from web_server.models.emotion import EmotionSample, Modality, SampleStatus

log = logging.getLogger(__name__)


def offset_ms(attempt: Attempt, at: datetime) -> int:
    """Milliseconds from the attempt's start (0 for times before it, e.g. a skewed browser clock)."""
    started = attempt.started_at if attempt.started_at.tzinfo else attempt.started_at.replace(tzinfo=UTC)
    return max(0, round((at - started).total_seconds() * 1000))


def face_sample(attempt: Attempt, question_id: int, at: datetime, result: dict, media_id: int | None):
    """One sample per frame: the largest face's prediction; `faces` counts every face (0: nobody)."""
    faces = [f for f in result.get("faces") or [] if isinstance(f, dict)]
    main = max(faces, key=lambda f: _box_area(f.get("box")), default=None)
    return EmotionSample(
        attempt_id=attempt.id,
        question_id=question_id,
        media_id=media_id,
        modality=Modality.face,
        captured_at=at,
        offset_ms=offset_ms(attempt, at),
        emotion=main.get("emotion") if main else None,
        confidence=_float(main.get("confidence")) if main else None,
        scores=_scores(main.get("scores")) if main else None,
        faces=len(faces),
        status=_status(main),
    )


def voice_samples(
    attempt: Attempt, question_id: int, started_at: datetime, result: dict, media_id: int | None
) -> list[EmotionSample]:
    """One sample per segment, timed `started_at + start_s` (a recording without speech gives none)."""
    samples = []
    for seg in result.get("segments") or []:
        start, end = _float(seg.get("start_s")) or 0.0, _float(seg.get("end_s")) or 0.0
        at = started_at + timedelta(seconds=start)
        samples.append(
            EmotionSample(
                attempt_id=attempt.id,
                question_id=question_id,
                media_id=media_id,
                modality=Modality.voice,
                captured_at=at,
                offset_ms=offset_ms(attempt, at),
                emotion=seg.get("emotion"),
                confidence=_float(seg.get("confidence")),
                scores=_scores(seg.get("scores")),
                status=_status(seg),
                segment_start_s=start,
                segment_end_s=max(start, end),
            )
        )
    return samples


def samples_from_result(
    attempt: Attempt, question_id: int, modality: str, at: datetime, result: dict, media_id: int | None
) -> list[EmotionSample]:
    """The samples of an analysed frame (one) or recording (one per segment)."""
    if modality == Modality.face:
        return [face_sample(attempt, question_id, at, result, media_id)]
    return voice_samples(attempt, question_id, at, result, media_id)


def _status(prediction: dict | None) -> SampleStatus:
    """`uncertain` when the AI server flagged the prediction as unreliable, else `ok`."""
    return SampleStatus.uncertain if prediction and prediction.get("uncertain") else SampleStatus.ok


def _box_area(box: object) -> float:
    if isinstance(box, list | tuple) and len(box) == 4:
        return float(box[2]) * float(box[3])
    return 0.0


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _scores(value: object) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): float(v) for k, v in value.items() if _float(v) is not None}
