"""Snapshot / multi-model ensembling: averaging class probabilities, or a majority vote."""

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


#: how :func:`fuse_scores` joins members' probabilities
FUSIONS = ("mean", "vote")


def fuse_scores(probs: Sequence[torch.Tensor], fusion: str = "mean",
                weights: Sequence[float] | None = None) -> torch.Tensor:
    """Join several models' probabilities of the same items; classes on the last dim.

    ``mean``: the mean probability (score fusion). ``vote``: each model votes for its
    argmax (majority / plurality vote); the result is ``(votes + mean) / (M + 1)`` for ``M``
    models, so it still sums to 1, its argmax is the class with the most votes, and a tie
    goes to the tied class of higher mean probability (the mean, below 1, cannot outweigh
    one vote).

    ``weights``: one number >= 0 per model (e.g. :mod:`simgen.adapt.benchmark.stability`'s), scaled to mean 1: a
    weighted mean, and weighted votes.

    Shape:
        each ``(..., K)`` -> ``(..., K)``.

    Example (two of three models say class 0, the mean says class 1):
        >>> p = [torch.tensor([0.6, 0.4]), torch.tensor([0.6, 0.4]), torch.tensor([0.0, 1.0])]
        >>> fuse_scores(p, "mean"), fuse_scores(p, "vote")
        (tensor([0.4000, 0.6000]), tensor([0.6000, 0.4000]))
    """
    if not probs:
        raise ValueError("nothing to ensemble")
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; expected one of {FUSIONS}")
    stack = torch.stack([p.float() for p in probs])
    w = torch.ones(len(probs)) if weights is None else torch.as_tensor(list(weights), dtype=torch.float32)
    if len(w) != len(probs) or bool((w < 0).any()) or not float(w.sum()) > 0:
        raise ValueError(f"member weights must be {len(probs)} numbers >= 0, not all 0; got {list(map(float, w))}")
    w = (w / w.mean()).view(-1, *[1] * (stack.dim() - 1))  # mean 1: equal weights are the plain mean and count
    mean = (stack * w).mean(0)
    if fusion == "mean":
        return mean
    votes = (torch.nn.functional.one_hot(stack.argmax(-1), stack.shape[-1]).float() * w).sum(0)
    return (votes + mean) / (len(probs) + 1)
