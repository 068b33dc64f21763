"""Image decoding with clear errors: JPEG, PNG and WebP only, checked for size, dimensions and truncation."""

import struct

import cv2
import numpy as np

from ai_server.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

SUPPORTED = "JPEG, PNG or WebP"


def sniff_format(data: bytes) -> str | None:
    """'jpeg', 'png', 'webp' from the magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (seg_len,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + seg_len
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def declared_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """The (width, height) the file header declares, read without decoding."""
    return {"jpeg": _jpeg_size, "png": _png_size, "webp": _webp_size}[fmt](data)


def is_complete(data: bytes, fmt: str) -> bool:
    """False for a file cut short (libjpeg would otherwise return a half-grey picture)."""
    if fmt == "jpeg":
        return b"\xff\xd9" in data[-256:]  # end-of-image marker (tolerates a little trailing padding)
    if fmt == "png":
        return b"IEND" in data[-32:]
    riff_size = int.from_bytes(data[4:8], "little")
    return len(data) >= riff_size + 8


_GREY_FLAGS = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}


def reduction_for(width: int, height: int, min_side: int) -> int:
    """The largest decode reduction (1, 2, 4, 8) that keeps the longer side at least ``min_side`` pixels."""
    r = 1
    while r < 8 and max(width, height) / (r * 2) >= min_side:
        r *= 2
    return r


def decode_image(
    data: bytes, max_bytes: int, max_pixels: int, keep_long_side: int | None = None
) -> tuple[np.ndarray, int]:
    """Bytes -> (grey uint8 image, reduction), or a domain error a person understands.

    With ``keep_long_side`` the image is decoded at 1/2, 1/4 or 1/8 size when its longer side stays at least
    that long (libjpeg scales while decoding, several times faster); ``reduction`` says by how much.
    """
    if len(data) == 0:
        raise InvalidInput("The uploaded image is empty (0 bytes).")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The image is too large: at most {max_bytes / 2**20:.0f} MB is accepted.")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMedia(f"The upload is not a supported image; send {SUPPORTED}.")
    size = declared_size(data, fmt)
    if size is None:
        raise UnsupportedMedia(f"The {fmt.upper()} image is damaged: its header cannot be read.")
    w, h = size
    if w < 1 or h < 1:
        raise UnsupportedMedia(f"The {fmt.upper()} image declares impossible dimensions {w}x{h}.")
    if w * h > max_pixels or max(w, h) > 20_000:
        raise PayloadTooLarge(
            f"The image dimensions {w}x{h} are too large: at most {max_pixels / 1e6:.0f} megapixels "
            "and 20000 pixels a side."
        )
    if not is_complete(data, fmt):
        raise UnsupportedMedia(f"The {fmt.upper()} image is truncated (the file ends too early).")
    reduction = reduction_for(w, h, keep_long_side) if keep_long_side else 1
    image = cv2.imdecode(np.frombuffer(data, np.uint8), _GREY_FLAGS[reduction])
    if image is None:
        raise UnsupportedMedia(f"The {fmt.upper()} image could not be decoded; it may be damaged.")
    return image, reduction
