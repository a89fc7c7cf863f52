"""Supervised clip and per-frame cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def class_balance_weights(labels: torch.Tensor | list[int], num_classes: int, *, power: float = 1.0) -> torch.Tensor:
    """Inverse-frequency class weights, normalised to mean 1 over present classes.

    Args:
        labels: training labels (``-1`` ignored).
        num_classes: ``K``.
        power: 1 = inverse frequency, 0.5 = inverse square root (milder).

    Returns:
        ``float[K]``; classes absent from ``labels`` get weight 1.
    """
    labels = torch.as_tensor(labels, dtype=torch.long)
    labels = labels[labels >= 0]
    counts = torch.bincount(labels, minlength=num_classes).float()
    weights = torch.where(counts > 0, counts.clamp(min=1).pow(-power), torch.zeros_like(counts))
    present = counts > 0
    if present.any():
        weights = weights / weights[present].mean()
    weights[~present] = 1.0
    return weights


class ClassificationLoss(nn.Module):
    """Cross-entropy with label smoothing and optional class weights; label ``-1`` is ignored.

    Works for clip logits ``(B,K)`` with labels ``(B,)`` and frame logits ``(B,K,T)``
    with labels ``(B,T)``. A batch with no labelled element gives a zero that still
    carries a graph (so DDP and AMP scaling stay happy).

    Args:
        label_smoothing: epsilon of label smoothing (Szegedy et al., 2016).
        class_weights: ``float[K]`` or ``None``.
    """

    def __init__(self, *, label_smoothing: float = 0.0, class_weights: torch.Tensor | None = None):
        super().__init__()
        self.label_smoothing = label_smoothing
        self.register_buffer("class_weights", class_weights if class_weights is not None else None)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not bool((labels >= 0).any()):
            return logits.sum() * 0.0
        return F.cross_entropy(logits.float(), labels, weight=self.class_weights, ignore_index=-1,
                               label_smoothing=self.label_smoothing)
