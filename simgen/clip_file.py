"""Write a clip (uint8[T, H, W, 3] RGB frames) to a file a person can watch: .gif or .mp4."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simgen.errors import SimgenError

CLIP_SUFFIXES = (".gif", ".mp4")


def check_clip_path(path: str | Path, option: str = "--out") -> Path:
    """The output path, refused (one line, before any work) unless it ends in .gif or .mp4."""
    path = Path(path)
    if path.suffix.lower() not in CLIP_SUFFIXES:
        raise SimgenError(f"expected a .gif or .mp4 file name, got '{path.name}'", field=option)
    return path


def write_clip(frames: np.ndarray, path: str | Path, fps: float) -> Path:
    """GIF through Pillow (loops forever), MP4 through the dataset's H.264 writer."""
    path = check_clip_path(path)
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".gif":
            from PIL import Image

            images = [Image.fromarray(f) for f in frames]
            images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, optimize=False)
        else:
            from simgen.video import encode_mp4

            t, h, w, _ = frames.shape
            # H.264 in yuv420p needs even sides: pad with one edge row/column if odd.
            frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            path.write_bytes(encode_mp4(frames, fps))
    except OSError as exc:
        raise SimgenError(f"cannot write: {exc.strerror}", file=str(path)) from None
    return path
