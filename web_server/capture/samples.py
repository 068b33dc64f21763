"""AI server results -> emotion samples: one per frame (the largest face), one per voice segment."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from ai_server.schemas import FaceAnswer, FrameResult, Prediction, VoiceAnswer
from web_server.models.attempt import Attempt
from web_server.models.emotion import EmotionSample, Modality, SampleStatus

log = logging.getLogger(__name__)


def offset_ms(attempt: Attempt, at: datetime) -> int:
    """Milliseconds from the attempt's start (0 for times before it, e.g. a skewed browser clock)."""
    started = attempt.started_at if attempt.started_at.tzinfo else attempt.started_at.replace(tzinfo=UTC)
    return max(0, round((at - started).total_seconds() * 1000))


def face_sample(
    attempt: Attempt, question_id: int, at: datetime, result: FrameResult | FaceAnswer, media_id: int | None
):
    """One sample per frame: the largest face's prediction; `faces` counts every face (0: nobody)."""
    faces = result.faces
    main = max(faces, key=lambda f: f.box[2] * f.box[3], default=None)
    return EmotionSample(
        attempt_id=attempt.id,
        question_id=question_id,
        media_id=media_id,
        modality=Modality.face,
        captured_at=at,
        offset_ms=offset_ms(attempt, at),
        emotion=main.emotion if main else None,
        confidence=main.confidence if main else None,
        scores=dict(main.scores) if main else None,
        faces=len(faces),
        status=_status(main),
    )


def voice_samples(
    attempt: Attempt, question_id: int, started_at: datetime, result: VoiceAnswer, media_id: int | None
) -> list[EmotionSample]:
    """One sample per segment, timed `started_at + start_s` (a recording without speech gives none)."""
    samples = []
    for seg in result.segments:
        start, end = seg.start_s, seg.end_s
        at = started_at + timedelta(seconds=start)
        samples.append(
            EmotionSample(
                attempt_id=attempt.id,
                question_id=question_id,
                media_id=media_id,
                modality=Modality.voice,
                captured_at=at,
                offset_ms=offset_ms(attempt, at),
                emotion=seg.emotion,
                confidence=seg.confidence,
                scores=dict(seg.scores),
                status=_status(seg),
                segment_start_s=start,
                segment_end_s=max(start, end),
            )
        )
    return samples


def samples_from_result(
    attempt: Attempt,
    question_id: int,
    modality: str,
    at: datetime,
    result: FrameResult | FaceAnswer | VoiceAnswer,
    media_id: int | None,
) -> list[EmotionSample]:
    """The samples of an analysed frame (one) or recording (one per segment)."""
    if modality == Modality.face and not isinstance(result, VoiceAnswer):
        return [face_sample(attempt, question_id, at, result, media_id)]
    if modality == Modality.voice and isinstance(result, VoiceAnswer):
        return voice_samples(attempt, question_id, at, result, media_id)
    raise ValueError(f"A {modality} medium cannot have a {type(result).__name__} result.")


def _status(prediction: Prediction | None) -> SampleStatus:
    """`uncertain` when the AI server flagged the prediction as unreliable, else `ok`."""
    return SampleStatus.uncertain if prediction is not None and prediction.uncertain else SampleStatus.ok
