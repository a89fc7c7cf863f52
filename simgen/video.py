"""H.264 MP4 encoding and decoding with PyAV (in memory)."""

from __future__ import annotations

import io
import os
import tempfile
from fractions import Fraction

import av
import numpy as np


def encode_mp4(frames: np.ndarray, fps: float, *, crf: int = 18, preset: str = "veryfast") -> bytes:
    """Encode uint8[T, H, W, 3] RGB frames as an H.264 (yuv420p) MP4 that any player opens.

    One encoder thread keeps the output byte-identical across machines and worker counts.
    """
    t, h, w, _ = frames.shape
    rate = Fraction(fps).limit_denominator(1001)
    # faststart (index at the front, for streaming) needs a real file the muxer can reopen.
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="simgen_")
    os.close(fd)
    try:
        _encode_to(path, frames, rate, crf, preset)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _encode_to(path: str, frames: np.ndarray, rate: Fraction, crf: int, preset: str) -> None:
    t, h, w, _ = frames.shape
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(crf), "preset": preset, "threads": "1"}
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decode_mp4(data: bytes) -> np.ndarray:
    """Decode MP4 bytes to uint8[T, H, W, 3] RGB."""
    with av.open(io.BytesIO(data), mode="r") as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    if not frames:
        raise ValueError("the video has no frames")
    return np.stack(frames)
