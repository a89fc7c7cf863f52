"""The frame rate a model was trained at, and real footage resampled to it at inference.

A model learns motion per frame: a 50 fps clip shows half the motion between two frames
that a 25 fps training clip did, so an action looks twice as slow. Evaluation and
prediction therefore replay every clip at the model's rate first (nearest frame, no
blending: see :func:`~simgen.train.data.samplers.resample_fps`).
"""

from __future__ import annotations

import numpy as np
import torch

from simgen.train.data.samplers import resample_fps


def training_fps(fps_option: float | None, train_dataset) -> float | None:
    """The rate a run's clips were seen at: ``--fps`` when given, else the synthetic dataset's spec rate.

    Without ``--fps`` each clip keeps its own rate; a synthetic dataset has one (its
    ``dataset.json`` ``spec.fps``). A run on real clips alone has no single rate: ``None``.
    """
    if fps_option:
        return float(fps_option)
    parts = getattr(train_dataset, "datasets", [train_dataset])
    for part in parts:
        spec = getattr(part.reader, "spec", None) or {}
        if spec.get("fps"):
            return float(spec["fps"])
    return None


def model_fps(meta: dict) -> float | None:
    """The frame rate a checkpoint's model expects (``None``: unknown, clips are kept at their own rate).

    ``fps`` is the rate training resampled to (``--fps``); ``train_fps`` the rate its clips
    had when it did not. Checkpoints from before ``train_fps`` was recorded may have neither.
    """
    return meta.get("fps") or meta.get("train_fps") or None


def to_model_rate(frames: np.ndarray | torch.Tensor, src_fps: float, dst_fps: float | None):
    """``(frames on the dst_fps timeline, indices into frames)``; unchanged when the rates agree or dst is ``None``."""
    idx = resample_fps(len(frames), float(src_fps), dst_fps)
    if len(idx) == len(frames) and (idx == np.arange(len(frames))).all():
        return frames, idx
    return frames[torch.from_numpy(idx) if isinstance(frames, torch.Tensor) else idx], idx


def back_to_source(idx: np.ndarray, num_source_frames: int) -> np.ndarray:
    """For each source frame, the resampled frame that shows it or, if dropped, the last one before it.

    ``idx`` is what :func:`to_model_rate` returned (resampled frame ``j`` is source frame
    ``idx[j]``, non-decreasing). Maps per-frame predictions back onto the video as filmed.
    """
    src = np.arange(num_source_frames)
    return np.clip(np.searchsorted(idx, src, side="right") - 1, 0, len(idx) - 1)
