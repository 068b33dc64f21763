"""``POST /v1/voice``: the emotion timeline and overall emotion of a recorded answer."""

import asyncio
import logging
import time
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Request, UploadFile

from ai_server.api.deps import error_responses, get_registry
from ai_server.audio.decode import SAMPLE_RATE, Speech, load_speech
from ai_server.audio.encode import encode_audio
from ai_server.audio.features import MIN_SPEECH_S, Windows, aggregate, speech_windows
from ai_server.audio.functionals import LinearHead, functionals, fuse, load_head
from ai_server.concurrency import process_pool, run_blocking, run_in_process
from ai_server.config import Settings, get_settings
from ai_server.errors import PayloadTooLarge
from ai_server.models.registry import LoadedModel, ModelSpec
from ai_server.schemas import Prediction, Segment, VoiceAnswer

log = logging.getLogger(__name__)
router = APIRouter(tags=["voice"])
MIN_CONFIDENT_SPEECH_S = 1.0  # less speech than this is too little to read an emotion from


def _prepare(data: bytes, representation: str) -> tuple[Speech, Windows]:
    """Decode, trim and window a recording (blocking: runs in the thread pool)."""
    settings = get_settings()
    if len(data) > settings.max_audio_bytes:
        raise PayloadTooLarge(
            f"The audio is too large: at most {settings.max_audio_bytes / 1024 / 1024:.0f} MB."
        )
    speech = load_speech(data, max_seconds=settings.max_audio_seconds)
    return speech, speech_windows(speech, representation)


async def _functionals(speech: Speech) -> np.ndarray | None:
    """The answer's functionals, from a worker process; ``None`` if that failed or took longer than
    ``ser_functionals_timeout_s`` (a stuck worker): the CNNs answer alone."""
    timeout_s = get_settings().ser_functionals_timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            return await run_in_process(functionals, speech.samples, speech.sample_rate)
    except TimeoutError:
        log.error("functionals took over %g s; this answer's overall comes from the CNNs alone", timeout_s)
        return None
    except Exception:  # noqa: BLE001 - a crashed openSMILE worker must not cost the student's answer
        log.exception("functionals failed; this answer's overall comes from the CNNs alone")
        return None


def _warm_up(ser: LoadedModel) -> None:
    """Decode, window and classify a synthetic 3 s answer once while the models load, so that the first
    student's answer does not pay for the audio libraries' first calls (about 2 s); with the functionals
    head, this also starts an openSMILE worker and checks that it runs."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    speech, windows = _prepare(
        encode_audio(tone.astype(np.float32), SAMPLE_RATE, "webm"), ser.meta.get("representation", "siaser")
    )
    ser.batcher.run_sync(windows.inputs)
    if ser.extra is not None:
        process_pool().submit(functionals, speech.samples, speech.sample_rate).result()


def _attach_head(path: Path, meta: dict, settings: Settings) -> LinearHead | None:
    return load_head(path, meta, settings.ser_functionals)


# ``extra``: the functionals head fused into ``overall``, or None (off, or openSMILE missing)
MODELS = [
    ModelSpec(name="ser", kind="voice", path_setting="ser_model_path", warm_up=_warm_up, attach=_attach_head)
]


def _scores(ser: LoadedModel, p: np.ndarray, speech_s: float) -> dict:
    """The prediction of one window or of the whole answer (``Prediction``'s fields), uncertain with too
    little speech."""
    return ser.prediction(p, "too little speech" if speech_s < MIN_CONFIDENT_SPEECH_S else None)


@router.post(
    "/v1/voice",
    response_model=VoiceAnswer,
    response_model_exclude_unset=True,  # ``note`` only when there is no speech to analyse
    responses=error_responses(400, 413, 415, 422, 500, 503),
)
async def voice(
    request: Request,
    audio: Annotated[
        UploadFile, File(description="a recording: WebM/Opus, Ogg/Opus, MP4/AAC, WAV, FLAC or MP3")
    ],
) -> VoiceAnswer:
    """Classify the speech emotion of a recording in 2 s windows (50% overlap) and overall.

    The recording is decoded to 16 kHz mono and leading/trailing silence is trimmed; ``start_s``/``end_s``
    are seconds from the start of the recording as received, and the windows together cover all of the
    speech. ``overall`` is the mean of the window probabilities weighted by each window's speech length and
    loudness, mixed with a classifier of the whole answer's acoustic functionals. Probabilities are
    calibrated (temperature scaling fitted on held-out speakers); a window or answer is ``uncertain`` (with
    ``uncertain_reason``) when its calibrated confidence is below the model's threshold or it holds less
    than 1 s of speech: show it as uncertain, not as an emotion.

    A recording that decodes but holds only silence, or less than 0.3 s of speech, is not an error: the
    answer is 200 with ``segments: []``, ``overall: null`` and a ``note`` saying why. Empty, non-audio or
    corrupt uploads get 415, uploads over the size or duration limit 413, a missing ``audio`` field 422.
    """
    started = time.perf_counter()
    ser = get_registry(request).get("ser")
    data = await audio.read()
    speech, windows = await run_blocking(_prepare, data, ser.meta.get("representation", "siaser"))
    answer: dict = {"model": ser.display_name, "duration_s": round(speech.duration_s, 3), "segments": []}
    if not windows.starts_s:
        answer["overall"] = None
        if speech.speech_s == 0:
            answer["note"] = "No speech found: the recording is silent."
        else:
            answer["note"] = (
                f"Too little speech to analyse: {speech.speech_s:.2f} s found, "
                f"at least {MIN_SPEECH_S:g} s needed."
            )
    else:
        jobs = [ser.batcher.submit_many(windows.inputs)]
        if ser.extra is not None:  # the functionals, in another process, while the CNNs run in the batcher
            jobs.append(_functionals(speech))
        probs, *features = await asyncio.gather(*jobs)
        overall = aggregate(probs, windows.weights)
        if features and features[0] is not None:
            overall = fuse(overall, ser.extra.probs(features[0]), ser.meta["functionals"]["weight"])
        answer["segments"] = [
            Segment(start_s=s, end_s=e, **_scores(ser, p, e - s))
            for s, e, p in zip(windows.starts_s, windows.ends_s, probs, strict=True)
        ]
        answer["overall"] = Prediction(**_scores(ser, overall, speech.speech_s))
    answer["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return VoiceAnswer(**answer)
