"""Temporal samplers: which frame indices of a clip make a training/eval window.

Every function returns integer index arrays into the clip's frames, so the same
indices select frames, per-frame labels and keypoints alike. Random samplers take an
explicit ``numpy.random.Generator`` (no global RNG).
"""

from __future__ import annotations

import numpy as np


def resample_fps(num_frames: int, src_fps: float, dst_fps: float | None) -> np.ndarray:
    """Indices that replay a clip at ``dst_fps``.

    Nearest-frame resampling (no interpolation) keeps frames real, which matters
    for camera-realism (blur, codec artefacts) that blending would wash out.

    Args:
        num_frames: frames in the clip at ``src_fps``.
        src_fps, dst_fps: source and target rates; ``dst_fps=None`` keeps the clip.

    Returns:
        ``int64[N']`` with ``N' = max(1, round(num_frames * dst_fps / src_fps))``.
    """
    if dst_fps is None or num_frames == 0 or abs(src_fps - dst_fps) < 1e-6:
        return np.arange(num_frames, dtype=np.int64)
    n_out = max(1, int(round(num_frames * dst_fps / src_fps)))
    t = np.arange(n_out) * (src_fps / dst_fps)
    return np.minimum(np.floor(t + 1e-6).astype(np.int64), num_frames - 1)


def uniform_indices(num_frames: int, num_samples: int) -> np.ndarray:
    """``num_samples`` indices spread evenly over the whole clip (centres of equal bins)."""
    if num_frames <= 0:
        raise ValueError("num_frames must be positive")
    edges = np.linspace(0, num_frames, num_samples + 1)
    return np.minimum(((edges[:-1] + edges[1:]) / 2).astype(np.int64), num_frames - 1)


def random_window(num_frames: int, num_samples: int, stride: int, rng: np.random.Generator) -> np.ndarray:
    """A window of ``num_samples`` frames ``stride`` apart at a random start.

    Clips shorter than the window are padded by repeating their last frame, so
    every sample has the same length.
    """
    span = (num_samples - 1) * stride + 1
    start = int(rng.integers(0, num_frames - span + 1)) if num_frames > span else 0
    return np.minimum(start + stride * np.arange(num_samples), num_frames - 1).astype(np.int64)


def dense_windows(num_frames: int, num_samples: int, stride: int = 1, step: int | None = None) -> np.ndarray:
    """Sliding windows covering every frame (for per-frame prediction / multi-view eval).

    Args:
        num_frames: clip length.
        num_samples: frames per window.
        stride: gap between frames inside a window.
        step: gap between window starts; defaults to the window span (no overlap).

    Returns:
        ``int64[W, num_samples]``; the last window is shifted back to end at the
        last frame so no frame is left out; short clips give one padded window.
    """
    span = (num_samples - 1) * stride + 1
    step = step or span
    if num_frames <= span:
        starts = [0]
    else:
        starts = list(range(0, num_frames - span + 1, step))
        if starts[-1] + span < num_frames:
            starts.append(num_frames - span)
    idx = np.asarray(starts)[:, None] + stride * np.arange(num_samples)[None, :]
    return np.minimum(idx, num_frames - 1).astype(np.int64)


def tsn_segments(num_frames: int, num_segments: int, rng: np.random.Generator | None) -> np.ndarray:
    """TSN sampling (Wang et al., ECCV 2016): one frame from each of ``num_segments`` equal parts.

    With ``rng`` the frame is random inside its segment (training); with ``None`` it
    is the segment centre (evaluation).
    """
    edges = np.linspace(0, num_frames, num_segments + 1)
    if rng is None:
        idx = (edges[:-1] + edges[1:]) / 2
    else:
        idx = edges[:-1] + rng.random(num_segments) * (edges[1:] - edges[:-1])
    return np.minimum(idx.astype(np.int64), num_frames - 1)


def sample_indices(
    name: str, num_frames: int, num_samples: int, *, stride: int = 1, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Dispatch by sampler name: ``uniform``, ``random_window``, ``tsn``, ``center_window``.

    Returns ``int64[num_samples]``.
    """
    if name == "uniform":
        return uniform_indices(num_frames, num_samples)
    if name == "tsn":
        return tsn_segments(num_frames, num_samples, rng)
    if name == "random_window":
        if rng is None:
            raise ValueError("random_window needs an rng")
        return random_window(num_frames, num_samples, stride, rng)
    if name == "center_window":
        span = (num_samples - 1) * stride + 1
        start = max(0, (num_frames - span) // 2)
        return np.minimum(start + stride * np.arange(num_samples), num_frames - 1).astype(np.int64)
    raise ValueError(f"unknown sampler {name!r}; expected uniform, random_window, tsn or center_window")
