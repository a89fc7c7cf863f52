"""The ``selfsup`` method: the self-supervised objectives of ``train/`` on the fold's real clips.

The labelled clips (synthetic ones and the shots) keep their cross-entropy, and the real
clips of every batch (the unlabelled training people's clips and the shots) add pretext
losses that need no label: is the clip in temporal order (Misra et al., "Shuffle and
Learn", ECCV 2016) and at what speed is it played (Benaim et al., "SpeedNet", CVPR 2020) —
:data:`simgen.train.objectives.selfsup.PRETEXT_TASKS`. The backbone thereby learns
features of real footage's motion without a label, as in self-supervised domain
adaptation (Sun et al., "Unsupervised Domain Adaptation through Self-Supervision", 2019).
Checkpoints are chosen by the same label-free rule as every other method.
"""

from __future__ import annotations

import torch
from torch import nn

from simgen.train.objectives.selfsup import PRETEXT_TASKS

#: the pretext tasks the method adds, and the weight of each
TASKS = ("order", "speed")
WEIGHT = 0.5


class RealPretextLoss(nn.Module):
    """``weight`` x the sum of pretext losses on a batch's real clips (domain 1).

    Args:
        in_features: the model's feature size (``model.out_features``).
        tasks: names in ``PRETEXT_TASKS``; each task owns a small head trained with the model.
        weight: weight of each task's loss.
    """

    def __init__(self, in_features: int, tasks: tuple[str, ...] = TASKS, weight: float = WEIGHT):
        super().__init__()
        unknown = [t for t in tasks if t not in PRETEXT_TASKS]
        if unknown:
            raise ValueError(f"unknown pretext task(s) {unknown}; expected some of {', '.join(PRETEXT_TASKS)}")
        self.tasks = nn.ModuleDict({t: PRETEXT_TASKS[t](in_features) for t in tasks})
        self.weight = weight

    def forward(self, model: nn.Module, video: torch.Tensor, domain: torch.Tensor, encode,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
        """``video``: float ``(B,3,T,H,W)`` clips in ``[0,1]``, not yet augmented; ``encode``: such
        clips -> model input. Returns the weighted loss and per-task stats (0 without real clips)."""
        real = domain == 1
        loss = video.new_zeros(())
        stats: dict[str, float] = {}
        if not bool(real.any()):
            return loss, stats
        for name, task in self.tasks.items():
            out = task(model, video[real], encode=encode, generator=generator)
            loss = loss + self.weight * out["loss"]
            stats[f"loss_{name}"] = float(out["loss"].detach())
            stats[f"acc_{name}"] = float(out["accuracy"])
        return loss, stats
