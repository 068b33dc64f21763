"""Every kind of bad input to ``POST /v1/face`` gets a clear 4xx, and the server keeps serving."""

from __future__ import annotations

import struct
import zlib

import httpx
import pytest

from tests.ai.conftest import post_face
from tests.support.assertions import assert_clear_error
from tests.support.data import val_faces
from tests.support.frames import compose, encode

FRAME = compose([(val_faces("happy", 1)[0], 240, 140, 180)]).image
JPEG = encode(FRAME)
PNG = encode(FRAME, ".png")


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` (valid CRC), followed by a tiny bogus IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 64)
    idat_chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk + iend


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 422, ["empty"]),
        (b"this is plain text, not a picture", 415, ["JPEG", "PNG"]),
        (b"%PDF-1.4\n" + b"0" * 5000, 415, ["not a supported image"]),
        (JPEG[: len(JPEG) // 2], 415, ["truncated"]),
        (PNG[: len(PNG) // 2], 415, ["truncated"]),
        (JPEG[:200], 415, []),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, 415, ["damaged"]),
        (png_header(100_000, 100_000), 413, ["100000x100000"]),
        (png_header(30_000, 2), 413, ["too large"]),
        (png_header(0, 10), 415, ["impossible"]),
        (png_header(64, 64), 415, []),
    ],
    ids=[
        "zero-bytes",
        "text",
        "pdf",
        "truncated-jpeg",
        "truncated-png",
        "jpeg-header-only",
        "jpeg-without-frame",
        "absurd-dimensions",
        "absurdly-wide",
        "zero-width",
        "corrupt-png-data",
    ],
)
def test_bad_image_gives_a_clear_4xx(
    ai_client: httpx.Client, data: bytes, status: int, words: list[str]
) -> None:
    assert_clear_error(post_face(ai_client, data), status, *words)
    assert_clear_error(post_face(ai_client, data, detect=False), status, *words)


def test_upload_over_the_size_limit_is_413(ai_client: httpx.Client) -> None:
    big = JPEG[:-2] + b"\x00" * (11 * 1024 * 1024) + b"\xff\xd9"
    assert_clear_error(post_face(ai_client, big), 413, "too large", "MB")


def test_chunked_upload_over_the_limit_is_413(ai_client: httpx.Client) -> None:
    def body():
        for _ in range(12):
            yield b"\x00" * (1024 * 1024)

    r = ai_client.post(
        "/v1/face", content=body(), headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert_clear_error(r, 413, "too large")


def test_wrong_field_name_is_422(ai_client: httpx.Client) -> None:
    r = ai_client.post("/v1/face", files={"file": ("f.jpg", JPEG, "image/jpeg")})
    assert_clear_error(r, 422, "image")


def test_no_body_is_422(ai_client: httpx.Client) -> None:
    assert_clear_error(ai_client.post("/v1/face"), 422, "image")


def test_bad_detect_parameter_is_422(ai_client: httpx.Client) -> None:
    r = ai_client.post(
        "/v1/face", params={"detect": "perhaps"}, files={"image": ("f.jpg", JPEG, "image/jpeg")}
    )
    assert_clear_error(r, 422, "detect")


def test_server_keeps_serving_after_bad_input(ai_client: httpx.Client) -> None:
    for data in (b"", b"junk", JPEG[:1000], png_header(100_000, 100_000)):
        assert post_face(ai_client, data).status_code < 500
    assert ai_client.get("/healthz").status_code == 200
    assert ai_client.get("/readyz").status_code == 200
    r = post_face(ai_client, JPEG)
    assert r.status_code == 200 and len(r.json()["faces"]) == 1
