"""The SER's functionals head (openSMILE ComParE 2016 + the served logistic regression) on real speech, and
its part in the ``overall`` the service answers."""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from pathlib import Path

import httpx
import keras
import numpy as np
import pytest

import ai_server.models.layers  # noqa: F401 - registers the custom layers of the served graph
from ai_server.audio.decode import SAMPLE_RATE, decode_audio, load_speech
from ai_server.audio.encode import encode_audio
from ai_server.audio.features import aggregate, speech_windows
from ai_server.audio.functionals import LinearHead, functionals, fuse, load_head
from ai_server.concurrency import process_pool
from ai_server.config import Settings
from ai_server.models.registry import LoadedModel, ModelSpec, read_metadata
from tests.ai.test_voice import CLIP, LONG_CLIPS, post_voice
from tests.ai.test_voice_corpora import held_out_clips

SER_PATH = Settings().ser_model_path
META = read_metadata(SER_PATH)


def extract(samples: np.ndarray) -> np.ndarray:
    """``functionals`` where the service runs it: in a worker process without TensorFlow."""
    return process_pool().submit(functionals, samples).result()


@pytest.fixture(scope="module")
def head() -> LinearHead:
    return LinearHead.load(SER_PATH.parent / META["functionals"]["file"])


def test_functionals_of_a_real_answer_are_finite_and_repeatable() -> None:
    speech = load_speech(CLIP.read_bytes())
    first = extract(speech.samples)
    assert first.shape == (6373,) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, extract(speech.samples))
    other = extract(load_speech(LONG_CLIPS[0].read_bytes()).samples)
    assert not np.allclose(first, other)


def test_saved_head_gives_the_same_probabilities(head: LinearHead, tmp_path) -> None:
    x = extract(load_speech(CLIP.read_bytes()).samples)
    head.save(tmp_path / "head.npz")
    again = LinearHead.load(tmp_path / "head.npz")
    np.testing.assert_allclose(again.probs(x), head.probs(x), atol=1e-5)
    assert abs(head.probs(x).sum() - 1) < 1e-9


def test_served_head_reads_emotion_in_every_corpus(head: LinearHead) -> None:
    """Alone, on real clips of each corpus (speakers it was fitted on at the end; far above chance)."""
    labels = META["labels"]
    for corpus in ("ravdess", "crema-d", "tess"):
        clips = held_out_clips(corpus)[::2]
        x = np.stack([extract(load_speech(p.read_bytes()).samples) for p, _ in clips])
        predicted = [labels[i] for i in head.probs(x).argmax(axis=1)]
        predicted = [("neutral" if p == "calm" and corpus != "ravdess" else p) for p in predicted]
        hits = sum(p == label for p, (_, label) in zip(predicted, clips, strict=True))
        assert hits / len(clips) >= 0.6, f"{corpus}: {hits}/{len(clips)}"


def test_overall_is_the_windows_mixed_with_the_head(ai_client: httpx.Client, head: LinearHead) -> None:
    """The service's ``overall`` equals the served graph's window mean fused with the head, calibrated."""
    samples = decode_audio(LONG_CLIPS[1].read_bytes())
    webm = encode_audio(samples, SAMPLE_RATE, "webm")
    r = post_voice(ai_client, webm)
    assert r.status_code == 200, r.text
    speech = load_speech(webm)
    windows = speech_windows(speech, META["representation"])
    model = keras.models.load_model(SER_PATH, compile=False)
    probs = model.predict(windows.inputs, verbose=0)
    served = LoadedModel(ModelSpec("ser", "voice", "ser_model_path"), model, META, None, head)
    cnn = aggregate(probs, windows.weights)
    fused = fuse(cnn, head.probs(extract(speech.samples)), META["functionals"]["weight"])
    expected = served.prediction(fused)["scores"]
    assert r.json()["overall"]["scores"] == pytest.approx(expected, abs=2e-3)
    assert served.prediction(cnn)["scores"] != pytest.approx(expected, abs=2e-3)  # the head counts


@pytest.mark.parametrize("enabled", [True, False])
def test_head_can_be_switched_off(enabled: bool) -> None:
    """``AI_SER_FUNCTIONALS=false``: the CNNs answer alone, with their temperature and a ``-cnn`` version."""
    meta = copy.deepcopy(META)
    loaded = load_head(SER_PATH, meta, enabled)
    if enabled:
        assert isinstance(loaded, LinearHead) and meta == META
    else:
        assert loaded is None and "functionals" not in meta
        assert meta["version"] == f"{META['version']}-cnn"
        assert meta["temperature"] == META["functionals"]["cnn_temperature"] != META["temperature"]
    assert json.loads(SER_PATH.with_suffix(".json").read_text()) == META  # the file is untouched


def functionals_workers(server_pid: int) -> list[int]:
    """The AI server's worker processes (``multiprocessing`` spawn children in its process group)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            spawned = b"spawn_main" in (proc / "cmdline").read_bytes()
            if spawned and os.getpgid(int(proc.name)) == os.getpgid(server_pid):
                pids.append(int(proc.name))
        except (OSError, ProcessLookupError):
            continue
    return pids


@pytest.mark.parametrize("hangs", [False, True], ids=["dies", "hangs"])
def test_a_failing_functionals_worker_costs_no_answer(
    ai_server, ai_client: httpx.Client, hangs: bool
) -> None:
    """If openSMILE's worker dies, or hangs past ``ser_functionals_timeout_s`` (stopped here), that answer
    comes from the CNNs alone, and the next is mixed again."""
    # a clip the networks are not sure of, so that the regression visibly moves it (by ~0.05 with 2.7.0)
    webm = encode_audio(decode_audio(LONG_CLIPS[1].read_bytes()), SAMPLE_RATE, "webm")
    mixed = post_voice(ai_client, webm).json()["overall"]["scores"]
    workers = functionals_workers(ai_server.proc.pid)
    assert workers, "the functionals run in worker processes of the AI server"
    for pid in workers:
        os.kill(pid, signal.SIGSTOP if hangs else signal.SIGKILL)
    try:
        time.sleep(0.5)
        r = post_voice(ai_client, webm)
    finally:
        if hangs:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
    assert r.status_code == 200, r.text
    assert r.json()["overall"]["scores"] != pytest.approx(mixed, abs=2e-3)  # the CNNs alone
    assert post_voice(ai_client, webm).json()["overall"]["scores"] == pytest.approx(mixed, abs=2e-3)
