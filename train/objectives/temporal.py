"""Losses that keep per-frame predictions steady over time.

- :func:`consistency_loss`: squared change of the class probabilities between neighbouring
  frames, over pairs of frames that share a label (or whose labels are unknown), so a
  true boundary is never penalised. Zero for constant predictions, positive for flicker.
- :func:`truncated_mse`: MS-TCN's smoothing loss (Farha & Gall, CVPR 2019, eq. 2): the
  squared difference of log-probabilities between frame ``t`` and ``t-1`` (the latter
  detached), truncated at ``tau``, averaged over frames and classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _pair_mask(frame_labels: torch.Tensor | None, shape) -> torch.Tensor:
    """``(B, T-1)`` float mask of neighbour pairs to score: equal labels, or either label unknown (-1)."""
    b, _, t = shape
    if frame_labels is None:
        return torch.ones(b, t - 1)
    a, c = frame_labels[:, 1:], frame_labels[:, :-1]
    return ((a == c) | (a < 0) | (c < 0)).float()


def consistency_loss(logits: torch.Tensor, frame_labels: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over neighbour pairs of ``sum_k (p[t,k] - p[t-1,k])^2`` (probabilities, so in ``[0, 2]``).

    Args:
        logits: per-frame logits ``(B, K, T)``.
        frame_labels: ``(B, T)`` labels; pairs across a change of label are left out.

    Example:
        >>> flat = torch.zeros(1, 3, 6)
        >>> float(consistency_loss(flat))
        0.0
    """
    if logits.shape[-1] < 2:
        return logits.sum() * 0.0
    p = torch.softmax(logits.float(), dim=1)
    step = (p[:, :, 1:] - p[:, :, :-1]).pow(2).sum(1)  # (B, T-1)
    mask = _pair_mask(frame_labels, logits.shape).to(step.device)
    return (step * mask).sum() / mask.sum().clamp(min=1)


def truncated_mse(logits: torch.Tensor, tau: float = 4.0) -> torch.Tensor:
    """MS-TCN's T-MSE smoothing loss on log-probabilities of neighbouring frames ``(B, K, T)``.

    Example:
        >>> float(truncated_mse(torch.zeros(1, 4, 5)))
        0.0
    """
    if logits.shape[-1] < 2:
        return logits.sum() * 0.0
    lp = F.log_softmax(logits.float(), dim=1)
    return (lp[:, :, 1:] - lp[:, :, :-1].detach()).pow(2).clamp(max=tau * tau).mean()
