"""Clutter: the share of what moves in a clip that lies outside the person, and the gate built on it.

A model of whole-frame differences (``diff``) reads every motion in the frame as the action: an occluder
sweeping across, a passer-by, a moving camera. A person-cropped model (``pdiff``, ``psdiff``, ``psrgb+diff``)
crops each window to the box around the person's repeated motion (:mod:`simgen.train.person_crop`) and
ignores most of it. So when much of a clip's motion lies outside that box, the cropped models' scores are
the ones to trust: the **clutter gate** fuses them alone on such a clip (as the camera gate fuses the
stabilised models alone on a clip filmed by a moving camera, :func:`simgen.train.ensemble_scores.gated_members`).

Clutter of a clip, per window of the cropped model (its frames, frame gap and frame rate): the share of the
moving pixel-steps (grey change above :data:`~simgen.train.person_crop.MOTION_THRESHOLD`) outside the
window's person box (:func:`~simgen.train.person_crop.motion_boxes`); the clip's value is the median over
its windows. No label is read.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from simgen.train.data.samplers import dense_windows, resample_fps
from simgen.train.inputs import CROPPED_INPUTS
from simgen.train.person_crop import MOTION_THRESHOLD, motion_boxes

#: the gate: set from synthetic clips only, just above every one of the 200 default-recipe ``weizmann4``
#: training clips (clutter at most 0.207, p99 0.190, median 0.025), at the next 0.05 step. The benchmark's
#: sweeping bar 0.15 / 0.3 / 0.45 wide gave medians 0.38 / 0.45 / 0.52 on 60 of them (docs/sim2real-log.md,
#: "Seeds 55-57")
CLUTTER_GATE = 0.25


def clip_clutter(frames: np.ndarray, fps: float, *, num_frames: int, stride: int,
                 model_fps: float | None) -> float:
    """The clip's clutter in ``[0, 1]``: the median over its dense windows (``num_frames`` frames ``stride``
    apart, after replaying the clip at ``model_fps``) of the share of moving pixel-steps outside each
    window's person box; 0 for a window where nothing moves.

    Args:
        frames: ``(T, H, W, 3)`` uint8 frames (or ``(T, H, W)`` grey levels 0-255).
        fps: the clip's frame rate.
    """
    idx = resample_fps(len(frames), fps, model_fps)
    g = torch.from_numpy(np.ascontiguousarray(frames[idx])).float()
    g = (g.mean(-1) if g.ndim == 4 else g) / 255.0  # (T, H, W) grey levels in [0, 1]
    windows = torch.from_numpy(np.asarray(dense_windows(len(g), num_frames, stride)))
    x = g[windows][:, None]  # (B, 1, t, H, W)
    boxes = motion_boxes(x)
    moving = ((x[:, 0, 1:] - x[:, 0, :-1]).abs() > MOTION_THRESHOLD).float().sum(1)  # (B, H, W) steps moved
    _, h, w = moving.shape
    ys = (torch.arange(h).float() + 0.5) / h
    xs = (torch.arange(w).float() + 0.5) / w
    shares = []
    for (cx, cy, side), m in zip(boxes.tolist(), moving):
        inside = ((xs[None] - cx).abs() <= side / 2) & ((ys[:, None] - cy).abs() <= side / 2)
        total = float(m.sum())
        shares.append(0.0 if total == 0 else float(m[~inside].sum()) / total)
    return float(np.median(shares))


def clutter_gate_applies(inputs: Sequence[str]) -> bool:
    """Whether a clutter gate can narrow members of these input modes: they mix person-cropped and whole-frame
    ones."""
    return len({m in CROPPED_INPUTS for m in inputs}) > 1


def clutter_gated_members(inputs: Sequence[str], clutter: float | None, gate: float | None,
                          members: Sequence[int] | None = None) -> list[int]:
    """Of ``members`` (positions in ``inputs``, default all), those to fuse on a clip of this ``clutter``: all,
    unless ``gate`` is set, ``clutter`` exceeds it and they mix person-cropped and whole-frame inputs: then the
    cropped ones alone."""
    members = list(range(len(inputs))) if members is None else list(members)
    if gate is None or clutter is None or clutter <= gate:
        return members
    cropped = [i for i in members if inputs[i] in CROPPED_INPUTS]
    return cropped if cropped and len(cropped) < len(members) else members
