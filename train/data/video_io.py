"""Decode video files with PyAV into ``uint8[T,H,W,3]`` arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from simgen.train.errors import VideoDecodeError


def fit_frame(frame: np.ndarray, size: int | None) -> np.ndarray:
    """Resize the short side to ``size`` and centre-crop to ``size x size``.

    Real footage comes at any size; resizing once at decode time keeps the cache
    small and every clip of a dataset the same shape.

    Args:
        frame: ``uint8[H,W,3]``.
        size: output side, or ``None`` to keep the frame as it is.
    """
    if size is None:
        return frame
    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return frame
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    frame = cv2.resize(frame, (nw, nh), interpolation=interp)
    top, left = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(frame[top : top + size, left : left + size])


def decode_video(path: str | Path, *, size: int | None = None) -> tuple[np.ndarray, float]:
    """Decode every frame of a video file.

    Args:
        path: any container/codec PyAV (FFmpeg) decodes.
        size: optional square output side (short-side resize + centre crop).

    Returns:
        ``(frames, fps)`` with frames ``uint8[T,H,W,3]`` RGB.

    Raises:
        VideoDecodeError: missing, empty, corrupt or truncated-to-nothing file; the
            message names the file.
    """
    frames: list[np.ndarray] = []
    fps = visit_frames(path, lambda rgb: frames.append(fit_frame(rgb, size)))
    return np.stack(frames), fps


def visit_frames(path: str | Path, visit: Callable[[np.ndarray], None]) -> float:
    """Call ``visit(rgb uint8[H,W,3])`` on every decoded frame of a video file; return its fps
    (25 when the file states none).

    Raises:
        VideoDecodeError: missing, empty, corrupt or frameless file; the message names the file.
    """
    import av  # local import: keeps ``import train`` light for non-video users

    from simgen.video import rgb_arrays

    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(f"{path}: video file not found")
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: video file is empty (0 bytes)")
    count, fps = 0, 0.0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"{path}: no video stream in file")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0.0)
            for rgb in rgb_arrays(container.decode(stream)):
                visit(rgb)
                count += 1
    except VideoDecodeError:
        raise
    except Exception as exc:  # PyAV raises many error types (InvalidDataError, EOFError, ...)
        # A half-decoded clip would silently train on a different action extent, so
        # any decoder error makes the whole file corrupt.
        raise VideoDecodeError(f"{path}: cannot decode video ({type(exc).__name__}: {exc})") from exc
    if not count:
        raise VideoDecodeError(f"{path}: video has no decodable frames")
    return fps if fps > 0 else 25.0
