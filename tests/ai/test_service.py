"""Service behaviour: health, readiness, model list, and micro-batching under concurrency (real model)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import cv2
import httpx
import numpy as np
import pytest

from ai_server.config import Settings
from ai_server.models.registry import ModelSpec, Registry
from ai_server.vision.preprocess import preprocess_face
from tests.ai.conftest import post_face
from tests.support.data import LABELS, val_faces
from tests.support.frames import compose
from tests.support.servers import AIServerProcess


def test_healthz_is_200(ai_client: httpx.Client) -> None:
    r = ai_client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readiness_went_from_503_to_200(ai_server: AIServerProcess, ai_client: httpx.Client) -> None:
    assert ai_server.readiness_seen[0] == 503, ai_server.readiness_seen
    assert ai_server.readiness_seen[-1] == 200
    r = ai_client.get("/readyz")
    assert r.status_code == 200 and "fer" in r.json()["models"]


def test_models_lists_the_face_model(ai_client: httpx.Client) -> None:
    models = {m["name"]: m for m in ai_client.get("/v1/models").json()}
    fer = models["fer"]
    assert fer["kind"] == "face"
    assert fer["labels"] == list(LABELS)
    assert fer["input_size"] == [48, 48, 1]
    assert 0.5 < fer["val_accuracy"] <= 1
    assert "FER2013" in fer["training_data"]
    assert fer["licence"]
    for m in models.values():
        assert set(m) == {
            "name",
            "version",
            "kind",
            "labels",
            "input_size",
            "val_accuracy",
            "training_data",
            "licence",
            "temperature",
            "uncertain_below",
        }


def test_many_parallel_requests_are_all_answered_correctly(ai_client: httpx.Client) -> None:
    """48 parallel requests (frames and crops) give exactly the answers each one gets when sent alone."""
    crops = [p.read_bytes() for label in LABELS for p in val_faces(label, 4, 200)]
    frames = [compose([(p, 220, 120, 190)], seed=i).jpeg() for i, p in enumerate(val_faces("sad", 8, 30))]
    requests = [(c, False) for c in crops] + [(f, True) for f in frames] * 2
    alone = [post_face(ai_client, data, detect).json() for data, detect in requests]
    with ThreadPoolExecutor(24) as pool:
        together = list(pool.map(lambda rq: post_face(ai_client, rq[0], rq[1]), requests))
    for a, t in zip(alone, together, strict=True):
        assert t.status_code == 200, t.text
        t = t.json()
        assert len(t["faces"]) == len(a["faces"])
        for fa, ft in zip(a["faces"], t["faces"], strict=True):
            assert ft["box"] == fa["box"]
            assert ft["emotion"] == fa["emotion"]
            for label in LABELS:
                assert ft["scores"][label] == pytest.approx(fa["scores"][label], abs=2e-3)


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = Registry(
        Settings(batch_max_size=16, batch_max_wait_ms=20), [ModelSpec("fer", "face", "fer_model_path")]
    )
    reg.load_all()
    assert reg.ready
    return reg


def faces_batch(n: int) -> np.ndarray:
    paths = [p for label in LABELS for p in val_faces(label, n // len(LABELS) + 1, 20)][:n]
    return np.stack([preprocess_face(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in paths])


async def test_batcher_merges_concurrent_submissions_into_few_calls(registry: Registry) -> None:
    fer = registry.get("fer")
    batcher = fer.batcher
    x = faces_batch(40)
    expected = fer.model(x, training=False).numpy()
    batcher.calls = batcher.items = 0
    singles = [batcher.submit(item) for item in x[:10]]
    many = batcher.submit_many(x[10:])  # 30 items in one request: more than one batch of 16
    results = await asyncio.gather(*singles, many)
    got = np.concatenate([np.stack(results[:10]), results[10]])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert batcher.items == 40
    assert batcher.calls <= 4, f"{batcher.calls} model calls for 40 items in batches of 16"


async def test_batcher_rejects_items_of_the_wrong_shape(registry: Registry) -> None:
    with pytest.raises(ValueError, match="shape"):
        await registry.get("fer").batcher.submit(np.zeros((64, 64, 1), np.float32))


def test_preprocessing_is_equalised_and_scaled() -> None:
    grey = cv2.imread(str(val_faces("neutral", 1)[0]), cv2.IMREAD_GRAYSCALE)
    dim = (grey // 3).astype(np.uint8)
    x = preprocess_face(dim)
    assert x.shape == (48, 48, 1) and x.dtype == np.float32
    assert -1.0 <= x.min() < -0.9 and 0.9 < x.max() <= 1.0  # equalisation stretched the dim image
    big = cv2.resize(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), (200, 200), interpolation=cv2.INTER_CUBIC)
    assert preprocess_face(big).shape == (48, 48, 1)


def test_in_graph_equalisation_is_identical_to_opencv() -> None:
    """The served model equalises in its graph; it must match the training-time ``cv2.equalizeHist``."""
    from ai_server.models.layers import HistogramEqualisation

    greys = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for label in LABELS for p in val_faces(label, 5)]
    greys.append(np.full((48, 48), 90, np.uint8))  # a flat image: left as it is
    x = np.stack([preprocess_face(g, equalise=False) for g in greys])
    expected = np.stack([preprocess_face(g, equalise=True) for g in greys])
    got = HistogramEqualisation()(x).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
