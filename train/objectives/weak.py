"""Weak supervision: a clip-level tag trains the per-frame head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def temporal_smoothing_loss(frame_logits: torch.Tensor, *, tau: float = 4.0) -> torch.Tensor:
    """Truncated MSE between log-probabilities of adjacent frames (MS-TCN's T-MSE, Farha & Gall, CVPR 2019).

    ``L = mean_t min((log p_t - log p_{t-1})^2, tau^2)``, with the previous frame
    detached as in MS-TCN so the loss smooths rather than collapses predictions.

    Shape:
        ``frame_logits (B, K, T)`` -> scalar.
    """
    if frame_logits.shape[-1] < 2:
        return frame_logits.sum() * 0.0
    logp = F.log_softmax(frame_logits.float(), dim=1)
    delta = logp[:, :, 1:] - logp[:, :, :-1].detach()
    return delta.pow(2).clamp(max=tau**2).mean()


class WeakFrameLoss(nn.Module):
    """Train per-frame scores from a clip tag: multiple-instance pooling + temporal consistency.

    The clip score is a soft maximum over frames, ``s_k = (1/r) log mean_t exp(r z_{k,t})``
    (log-sum-exp pooling; ``r -> 0`` is mean pooling, ``r -> inf`` max pooling), trained with
    cross-entropy against the tag; the temporal-consistency term keeps adjacent frames
    agreeing so the tag spreads over the action instead of one frame.

    Args:
        sharpness: ``r``.
        smoothing_weight: weight of :func:`temporal_smoothing_loss`.

    Shape:
        ``frame_logits (B, K, T)``, ``labels (B,)`` (``-1`` ignored) -> scalar.
    """

    def __init__(self, *, sharpness: float = 2.0, smoothing_weight: float = 0.15):
        super().__init__()
        self.sharpness = sharpness
        self.smoothing_weight = smoothing_weight

    def forward(self, frame_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        keep = labels >= 0
        if not bool(keep.any()):
            return frame_logits.sum() * 0.0
        z = frame_logits[keep].float()
        r = self.sharpness
        t = z.shape[-1]
        clip_scores = (torch.logsumexp(r * z, dim=-1) - torch.log(torch.tensor(float(t)))) / r
        mil = F.cross_entropy(clip_scores, labels[keep])
        return mil + self.smoothing_weight * temporal_smoothing_loss(z)
