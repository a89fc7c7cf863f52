"""Snapshot / multi-model ensembling by averaging class probabilities."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def average_probabilities(logits: Sequence[torch.Tensor], weights: Sequence[float] | None = None) -> torch.Tensor:
    """Weighted mean of softmax probabilities over the class dim (dim 1).

    Averaging probabilities rather than logits keeps one over-confident model from
    dominating (Lakshminarayanan et al., NeurIPS 2017).

    Shape:
        each ``(B, K[, T])`` -> ``(B, K[, T])`` probabilities.
    """
    if not logits:
        raise ValueError("nothing to ensemble")
    if weights is not None and len(weights) != len(logits):
        raise ValueError(f"{len(weights)} weights for {len(logits)} models")
    w = torch.as_tensor(weights if weights is not None else [1.0] * len(logits), dtype=torch.float32)
    w = w / w.sum()
    return sum(wi * torch.softmax(l.float(), dim=1) for wi, l in zip(w.tolist(), logits, strict=True))


class Ensemble(nn.Module):
    """Several models (e.g. snapshots of one run) as one: outputs averaged probabilities.

    ``forward`` returns ``dict(clip=(B,K)[, frame=(B,K,T)])`` of *log*-probabilities,
    so it drops in where a model's logits are used (argmax and softmax agree).
    """

    def __init__(self, models: Sequence[nn.Module], weights: Sequence[float] | None = None):
        super().__init__()
        self.models = nn.ModuleList(models)
        self.weights = list(weights) if weights is not None else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [m(x) for m in self.models]
        res = dict(clip=average_probabilities([o["clip"] for o in outs], self.weights).clamp_min(1e-12).log())
        if all("frame" in o for o in outs):
            res["frame"] = average_probabilities([o["frame"] for o in outs], self.weights).clamp_min(1e-12).log()
        return res
