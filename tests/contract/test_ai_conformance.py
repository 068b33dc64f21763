"""The AI server keeps its OpenAPI contract: schemathesis against the real server (real models, real HTTP).

For every operation of ``/openapi.json`` schemathesis generates requests (valid ones and, for the uploads,
random bytes as images and recordings, missing fields, odd hints) and checks each answer:
``not_a_server_error`` (never 5xx), ``status_code_conformance`` (only documented statuses),
``content_type_conformance`` and ``response_schema_conformance`` (the body is the documented model: the answer
models of ``ai_server.schemas``, or the one ``ErrorBody``). Bounded and seeded: a few examples per operation,
no deadline (the models run on busy CPUs).

Also here: the error body's shape on each kind of error, and that the models module the web server imports is
light (no TensorFlow, no OpenCV).
"""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ai_server.main import create_app
from ai_server.schemas import ErrorBody
from tests.support.media import no_face, one_face, three_faces, webm_speech
from tests.support.servers import ROOT, AIServerProcess

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def ai_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = AIServerProcess(tmp_path_factory.mktemp("ai_contract") / "server.log").start()
    try:
        yield server.url
    finally:
        server.stop()


# The schema the server serves at /openapi.json (built by the same code, without starting it: schemathesis
# 4.32's `from_fixture` does not run on pytest 9); the requests go to the real server (`base_url`).
schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_ai_server_conforms_to_its_openapi(case, ai_url: str) -> None:
    case.call_and_validate(base_url=ai_url, checks=CHECKS)


def silent_wav(seconds: float = 2.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
        w.writeframes(b"\x00\x00" * int(16_000 * seconds))
    return out.getvalue()


@pytest.mark.parametrize(
    ("path", "body", "query", "check"),
    [
        ("/v1/face", lambda: {"image": one_face("happy")}, {"detect": True}, lambda a: len(a["faces"]) == 1),
        ("/v1/face", lambda: {"image": three_faces()}, None, lambda a: len(a["faces"]) == 3),
        ("/v1/face", lambda: {"image": no_face()}, None, lambda a: a["faces"] == []),
        (
            "/v1/face/batch",
            lambda: {
                "images": [one_face("sad"), b"not an image", no_face()],
                "hints": "[[240, 140, 180, 180], null, null]",
            },
            None,
            lambda a: (
                [len(r["faces"]) for r in a["results"]] == [1, 0, 0]
                and a["results"][1]["error"]["status"] == 415
            ),
        ),
        (
            "/v1/voice",
            lambda: {"audio": webm_speech("03", 1, 4.0)},
            None,
            lambda a: a["segments"] and a["overall"],
        ),
        (
            "/v1/voice",
            lambda: {"audio": silent_wav()},
            None,
            lambda a: a["overall"] is None and "silent" in a["note"],
        ),
    ],
    ids=["one-face", "three-faces", "no-face", "batch", "speech", "silence"],
)
def test_real_media_answers_conform(ai_url: str, path: str, body, query, check) -> None:
    """Real faces and speech (which random bytes never are) get 200 answers that fit their models."""
    case = schema[path]["POST"].Case(body=body(), query=query, media_type="multipart/form-data")
    r = case.call_and_validate(base_url=ai_url, checks=CHECKS)
    assert r.status_code == 200, r.text
    assert check(r.json()), r.json()
    if path == "/v1/voice" and r.json()["segments"]:
        assert "note" not in r.json()  # only when there is too little speech


def test_the_served_schema_is_the_one_tested(ai_url: str) -> None:
    assert httpx.get(f"{ai_url}/openapi.json", timeout=30).json() == create_app().openapi()


def error_body(r: httpx.Response, status: int) -> ErrorBody:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = ErrorBody.model_validate(r.json())
    assert set(r.json()) >= {"detail", "errors"} and len(body.detail) > 10
    return body


def test_every_error_has_the_one_error_body(ai_url: str) -> None:
    with httpx.Client(base_url=ai_url, timeout=60) as client:
        missing = error_body(client.post("/v1/face"), 422)  # request validation: errors listed
        assert missing.detail.startswith("Invalid request") and "image" in missing.detail
        assert [(e.loc, e.type) for e in missing.errors] == [(["body", "image"], "missing")]
        bad_query = error_body(client.post("/v1/face?detect=maybe", files={"image": ("a", b"x")}), 422)
        assert bad_query.errors[0].loc == ["query", "detect"] and "detect" in bad_query.detail
        not_image = error_body(client.post("/v1/face", files={"image": ("a.jpg", b"plain text here")}), 415)
        assert not_image.errors == [] and "image" in not_image.detail
        assert error_body(client.get("/v1/nothing"), 404).errors == []
        assert "does not accept GET" in error_body(client.get("/v1/face"), 405).detail
        big = b"0" * (30 * 1024 * 1024)  # refused by the size guard before any parsing
        too_big = error_body(client.post("/v1/voice", files={"audio": ("a.wav", big)}), 413)
        assert too_big.errors == [] and "too large" in too_big.detail
        garbled = client.post(
            "/v1/voice", content=b"--x\r\nno", headers={"content-type": "multipart/form-data"}
        )
        assert error_body(garbled, 400).errors == []
        hints = {"hints": "[[Infinity, 0, 50, 50]]"}  # JSON, but not a box: the whole frame is searched
        r = client.post("/v1/face/batch", files={"images": ("a.jpg", b"\xff\xd8\xff\xe0")}, data=hints)
        assert r.status_code == 200 and r.json()["results"][0]["error"]["status"] == 415


def test_the_models_module_imports_neither_tensorflow_nor_opencv() -> None:
    code = (
        "import sys, ai_server.schemas, web_server.ai_client;"
        "print(sorted(m for m in ('tensorflow', 'keras', 'cv2', 'av') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_web_servers_labels_are_the_models_labels() -> None:
    """The web server's one label list per modality (charts, CSV, fusion) is each model's metadata list."""
    from ai_server.config import get_settings
    from ai_server.models.registry import read_metadata
    from web_server.services.fusion import FACE_LABELS, VOICE_LABELS

    settings = get_settings()
    assert list(FACE_LABELS) == read_metadata(settings.fer_model_path)["labels"]
    assert list(VOICE_LABELS) == read_metadata(settings.ser_model_path)["labels"]


def test_an_unexpected_failure_is_a_500_with_the_error_body() -> None:
    from fastapi.testclient import TestClient

    app = create_app()

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("a bug")

    r = TestClient(app, raise_server_exceptions=False).get("/fails")  # no lifespan: no models loaded
    body = error_body(r, 500)
    assert body.errors == [] and "RuntimeError" in body.detail and "a bug" not in body.detail
