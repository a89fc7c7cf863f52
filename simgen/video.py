"""H.264 MP4 encoding and decoding with PyAV (in memory)."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from fractions import Fraction
from typing import Iterable, Iterator

import av
import cv2
import numpy as np


def _fill_fresh_heap_memory(byte: int = 0x5A) -> bool:
    """Make glibc fill every malloc'd block with a fixed byte (mallopt M_PERTURB; ``byte`` 0: stop).

    libx264 reads some memory it never wrote (seen with 48x48 clips): its output then
    depends on what earlier work left on the heap, so the same frames encoded in two
    processes gave different bytes and even different decoded pixels. With fresh blocks
    filled with a constant, encoding is a pure function of the frames again. Returns
    whether it took effect (glibc only).
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-6, byte))  # -6 = M_PERTURB
    except (OSError, AttributeError):
        return False


_heap_pinned: bool | None = None


def pin_heap_for_encoding() -> bool:
    """Set M_PERTURB once, in a process that encodes (the first encode_mp4 call), never at import:
    it slows every malloc, and a training process that reads datasets does not need it."""
    global _heap_pinned
    if _heap_pinned is None:
        _heap_pinned = _fill_fresh_heap_memory()
    return _heap_pinned


_fill_lock = threading.Lock()
_fill_depth = 0  # encodes under way in this process's threads


@contextlib.contextmanager
def filled_heap():
    """M_PERTURB while inside, unset after (unless the process pinned it): for an encode in a process that
    mostly trains. An H.264 round trip (the codec augmentation, the benchmark's compressed test copies) in a
    training run gave different pixels for the same frames and CRF in two runs of the same seed (3 of the
    first 8 round trips of a ``robust`` epoch), so the run was not reproducible; pinning for the whole process
    would slow every malloc of the training step (x1.19 on a CPU conv3d step)."""
    global _fill_depth
    with _fill_lock:
        _fill_depth += 1
        if _fill_depth == 1 and not _heap_pinned:
            _fill_fresh_heap_memory()
    try:
        yield
    finally:
        with _fill_lock:
            _fill_depth -= 1
            if _fill_depth == 0 and not _heap_pinned:
                _fill_fresh_heap_memory(0)


def encode_mp4(frames: np.ndarray, fps: float, *, crf: int = 18, preset: str = "veryfast", params: str = "") -> bytes:
    """Encode uint8[T, H, W, 3] RGB frames as an H.264 (yuv420p) MP4 that any player opens.

    One encoder thread (x264's own threads, lookahead threads included) keeps the output
    byte-identical across runs and worker counts; with more, x264 output varies run to run.
    `params`: further x264 options, "key=value:key=value".
    """
    pin_heap_for_encoding()
    t, h, w, _ = frames.shape
    rate = Fraction(fps).limit_denominator(1001)
    # faststart (index at the front, for streaming) needs a real file the muxer can reopen.
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="simgen_")
    os.close(fd)
    try:
        _encode_to(path, frames, rate, crf, preset, params)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _encode_to(path: str, frames: np.ndarray, rate: Fraction, crf: int, preset: str, params: str) -> None:
    t, h, w, _ = frames.shape
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1) / rate
        stream.codec_context.thread_count = 1
        stream.options = {
            "crf": str(crf),
            "preset": preset,
            "x264-params": ":".join(filter(None, ["threads=1:lookahead-threads=1:sliced-threads=0", params])),
        }
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(frames[i]), format="yuv420p")
            # Explicit timestamps: x264's rate control reads them (vfr-input), and unset ones
            # made the output vary from run to run.
            frame.pts = i
            frame.time_base = Fraction(1) / rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 as one uint8[H*3/2, W] plane stack (I420, libav's yuv420p).

    Converted here (OpenCV) rather than by libswscale inside the encoder: fast and exactly
    reproducible.
    """
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)


def rgb_arrays(frames: Iterable[av.VideoFrame]) -> Iterator[np.ndarray]:
    """Each decoded frame as ``uint8[H,W,3]`` RGB, through one colour converter for them all.

    ``frame.to_ndarray(format="rgb24")`` builds a new swscale context per frame, which costs about 3x the
    decoding itself (61 frames of 64x64: 54 ms against 16 ms, same bytes); one reused converter gives
    the same pixels."""
    from av.video.reformatter import VideoReformatter

    converter = VideoReformatter()
    for frame in frames:
        yield converter.reformat(frame, format="rgb24").to_ndarray()


def decode_mp4(data: bytes, *, strict: bool = False) -> np.ndarray:
    """Decode MP4 bytes to uint8[T, H, W, 3] RGB.

    `strict`: raise on any error the H.264 decoder detects (libavcodec `err_detect=explode`)
    instead of concealing it, as players do, with pixels from elsewhere. For validation;
    H.264 has no checksum, so a corrupted stream may still decode without a detected error.
    """
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        if strict:
            stream.codec_context.options = {"err_detect": "explode"}
        frames = list(rgb_arrays(container.decode(stream)))
    if not frames:
        raise ValueError("the video has no frames")
    return np.stack(frames)
