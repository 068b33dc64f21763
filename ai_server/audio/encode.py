"""Encode PCM into the formats browsers and recorders produce (PyAV), for tests and benchmarks."""

import io
from fractions import Fraction

import av
import numpy as np
from scipy.signal import resample_poly

# name -> (container format, codec, bit rate or None)
FORMATS: dict[str, tuple[str, str, int | None]] = {
    "webm": ("webm", "libopus", 64_000),
    "ogg": ("ogg", "libopus", 64_000),
    "mp4": ("mp4", "aac", 128_000),
    "mp3": ("mp3", "libmp3lame", 128_000),
    "wav": ("wav", "pcm_s16le", None),
    "flac": ("flac", "flac", None),
}


def encode_audio(
    samples: np.ndarray,
    sample_rate: int,
    fmt: str,
    *,
    out_rate: int = 48_000,
    channels: int = 2,
    bit_rate: int | None = None,
) -> bytes:
    """Mono float samples -> bytes of ``fmt`` (see ``FORMATS``) at ``out_rate`` with ``channels`` channels.

    Stereo gets slightly different channel gains, as a real two-microphone recording would. ``bit_rate``
    overrides the format's default (training's low-bitrate Opus round trips).
    """
    container_format, codec, default_rate = FORMATS[fmt]
    bit_rate = bit_rate or default_rate
    if out_rate != sample_rate:
        g = np.gcd(out_rate, sample_rate)
        samples = resample_poly(samples, out_rate // g, sample_rate // g)
    samples = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    planes = np.stack([samples * (1.0 - 0.1 * c) for c in range(channels)]).astype(np.float32)
    layout = "stereo" if channels == 2 else "mono"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_format) as out:
        stream = out.add_stream(codec, rate=out_rate, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        step = 4096
        for i in range(0, planes.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planes[:, i : i + step]), format="fltp", layout=layout
            )
            frame.sample_rate = out_rate
            frame.pts = i
            frame.time_base = Fraction(1, out_rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
