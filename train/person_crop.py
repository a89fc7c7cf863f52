"""Person-centred crop: zoom each window onto the region that moves, so the person's size and place stop mattering.

A model trained on people 0.66-0.84 of the frame tall falls apart when the person fills 0.35 of it (the
benchmark's ``scale`` perturbation; a person filmed from further away). Cropping every window to a box around
its moving pixels, at training and at test time alike, brings the person to the same apparent size
wherever and however large they are in the frame: the figure-centric crop of tracking-based action
recognition (Efros et al., "Recognizing Action at a Distance", ICCV 2003), with the track replaced by the
window's own frame differences.

The box is one per window (a crop that moved within the window would add its own motion to every frame
difference) and comes from where pixels change, weighted by how often they do beyond a floor: a pixel the
person's arm crosses in many steps counts, one a passing edge touches once does not. Its extent is a
central quantile range of that weight along each axis, so a few noisy pixels far away do not stretch it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: a pixel "moves" between two frames when its grey level changes by more than this (of 1): about 13 of 255
MOTION_THRESHOLD = 0.05
#: share of the motion weight inside the box along each axis (the central 90%)
COVERAGE = 0.9
#: only pixels moving in more than this share of a window's steps count (their weight is the excess): an
#: action's limbs pass the same pixels again and again, an edge crossing the view (the benchmark's sweeping
#: bar, a passer-by) once. On synthetic test clips under a sweeping bar 15% / 30% wide the box stayed on the
#: person in 90% / 85% of windows with it, 33% / 35% without; with the frame shrunk to 0.45 (the scale
#: test's 0.55), 95% with it, 97% without
MIN_FREQUENCY = 0.2
#: the box's side over the larger extent of the moving region: room for the limbs' reach beyond it
MARGIN = 1.3
#: the smallest box, as a fraction of the frame: at most a 6.7x zoom (a 10-px region of a 64-px frame)
MIN_SIDE = 0.15
#: below this much motion (pixel-steps that move, as a share of the window's pixel-steps) nothing is
#: located and the window stays whole
MIN_MOTION = 0.0005


def _span(weight: torch.Tensor, coverage: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Central ``coverage`` range of a ``(B, N)`` weight profile, in pixels ``[lo, hi)``."""
    cdf = torch.cumsum(weight, dim=1)
    cdf = cdf / cdf[:, -1:].clamp_min(1e-12)
    tail = (1.0 - coverage) / 2.0
    q = torch.tensor([tail, 1.0 - tail], dtype=cdf.dtype, device=cdf.device).expand(len(cdf), 2).contiguous()
    idx = torch.searchsorted(cdf, q).clamp(max=weight.shape[1] - 1)
    return idx[:, 0].to(weight.dtype), idx[:, 1].to(weight.dtype) + 1.0


def motion_weights(gray: torch.Tensor, *, threshold: float = MOTION_THRESHOLD,
                   min_frequency: float = MIN_FREQUENCY) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each window moves: ``(weight, freq)``, both ``(B, H, W)``.

    ``freq`` is the share of a window's steps in which a pixel moves; ``weight`` its excess over
    ``min_frequency`` (or ``freq`` itself when no pixel of the window moves that often).
    """
    if gray.ndim != 5 or gray.shape[1] != 1:
        raise ValueError(f"motion boxes need grey clips (B,1,T,H,W), got {tuple(gray.shape)}")
    g = gray[:, 0].float()
    if g.shape[1] < 2:
        zero = torch.zeros_like(g[:, 0])
        return zero, zero
    freq = ((g[:, 1:] - g[:, :-1]).abs() > threshold).float().mean(1)  # (B, H, W): share of steps moving
    weight = (freq - min_frequency).clamp_min(0)
    # nothing moves often enough (a slow action, a short window): every moving pixel counts after all
    weight = torch.where(weight.sum((1, 2), keepdim=True) > 0, weight, freq)
    return weight, freq


def _boxes(weight: torch.Tensor, located: torch.Tensor, *, coverage: float, margin: float,
           min_side: float) -> torch.Tensor:
    """``(B, 3)`` boxes around the central ``coverage`` of each ``(B, H, W)`` weight map; the whole frame
    where ``located`` (``(B,)`` bool) is false."""
    b, h, w = weight.shape
    x0, x1 = _span(weight.sum(1), coverage)
    y0, y1 = _span(weight.sum(2), coverage)
    side = (torch.maximum((x1 - x0) / w, (y1 - y0) / h) * margin).clamp(min_side, 1.0)
    boxes = torch.stack([(x0 + x1) / (2 * w), (y0 + y1) / (2 * h), side], dim=1)
    whole = torch.tensor([0.5, 0.5, 1.0], dtype=boxes.dtype, device=boxes.device).expand(b, 3)
    return torch.where(located[:, None], boxes, whole)


def motion_boxes(gray: torch.Tensor, *, threshold: float = MOTION_THRESHOLD, coverage: float = COVERAGE,
                 margin: float = MARGIN, min_side: float = MIN_SIDE,
                 min_frequency: float = MIN_FREQUENCY) -> torch.Tensor:
    """One crop box per window around its moving pixels.

    Args:
        gray: ``(B, 1, T, H, W)`` grey levels in ``[0, 1]``.
        threshold, coverage, margin, min_side, min_frequency: see the module constants of the same names.

    Returns:
        ``(B, 3)``: centre ``x``, centre ``y`` and side, as fractions of the frame's width and height
        (a side of 1 is the whole frame; the box keeps the frame's aspect ratio). A window with
        (almost) no motion, or a single frame, gets the whole frame ``(0.5, 0.5, 1)``.
    """
    weight, freq = motion_weights(gray, threshold=threshold, min_frequency=min_frequency)
    located = freq.mean((1, 2)) >= MIN_MOTION  # false for a single frame too (no step moves)
    return _boxes(weight, located, coverage=coverage, margin=margin, min_side=min_side).to(gray.dtype)


def pooled_box(gray: torch.Tensor) -> torch.Tensor:
    """One box for all the windows ``(B, 1, T, H, W)`` of a clip, from their own motion weights.

    Each window's weight map (:func:`motion_weights`, what its own box is found from) is scaled to sum 1
    and the maps are averaged, so every window counts the same and a clip of one window gets that window's
    box. Why not one frequency map over the whole clip: where motion comes in bursts, few pixels move in
    more than :data:`MIN_FREQUENCY` of a whole clip's steps, and the box closes on them. Under an H.264
    round trip at CRF 48 (the codec skips blocks that change slowly) the box of a two-arm wave shrank to
    one hand (side 0.16 at x 0.30; the windows' own 0.55 at x 0.48), and a crop of one waving hand is what
    a one-arm wave looks like. Returns ``(3,)`` as :func:`motion_boxes` gives.
    """
    weight, freq = motion_weights(gray)
    weight = weight / weight.sum((1, 2), keepdim=True).clamp_min(1e-12)
    located = freq.mean().reshape(1) >= MIN_MOTION
    return _boxes(weight.mean(0, keepdim=True), located, coverage=COVERAGE, margin=MARGIN,
                  min_side=MIN_SIDE)[0].to(gray.dtype)


def crop_windows(video: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Every frame of window ``i`` cropped to ``boxes[i]`` and resized back to ``(H, W)`` (bilinear).

    Parts of a box outside the frame repeat the frame's edge pixels (static, so they add no motion).

    Shape:
        ``video (B, C, T, H, W)``, ``boxes (B, 3)`` -> ``(B, C, T, H, W)``.
    """
    b, c, t, h, w = video.shape
    cx, cy, side = boxes[:, 0], boxes[:, 1], boxes[:, 2]
    zero = torch.zeros_like(side)
    # output (u, v) in [-1, 1] samples the input at (2cx - 1 + side*u, 2cy - 1 + side*v)
    theta = torch.stack([torch.stack([side, zero, 2 * cx - 1], 1), torch.stack([zero, side, 2 * cy - 1], 1)], 1)
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    grid = F.affine_grid(theta.repeat_interleave(t, 0).to(frames.dtype), [b * t, c, h, w], align_corners=False)
    out = F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)
