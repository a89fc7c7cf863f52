"""A minimal adaptation step: classify the labelled clips, align synthetic and real features.

Library code only — the ``simgen sim2real`` command and its benchmark are still to come.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn

from simgen.adapt.align import (
    CoralLoss,
    DomainAdversarialLoss,
    DomainDiscriminator,
    GradientReverseLayer,
    MultiKernelMMD,
    TemporalAttentiveAlignment,
    WarmStartCoefficient,
    step_reversal_schedules,
)
from simgen.train.objectives.supervised import ClassificationLoss

ALIGNMENTS = ("none", "dann", "coral", "mmd", "ta3n")


def create_alignment(name: str, in_features: int, *, max_iters: int, hidden: int = 256) -> nn.Module | None:
    """The alignment loss called ``name`` for features of size ``in_features``.

    Adversarial ones get a reversal coefficient warming up over ``max_iters`` steps.
    """
    if name == "none":
        return None
    if name == "dann":
        return DomainAdversarialLoss(DomainDiscriminator(in_features, hidden=hidden),
                                     GradientReverseLayer(WarmStartCoefficient(max_iters=max_iters)))
    if name == "coral":
        return CoralLoss()
    if name == "mmd":
        return MultiKernelMMD()
    if name == "ta3n":
        return TemporalAttentiveAlignment(
            in_features, hidden=hidden, frame_grl=GradientReverseLayer(WarmStartCoefficient(max_iters=max_iters)),
            clip_grl=GradientReverseLayer(WarmStartCoefficient(max_iters=max_iters)))
    raise ValueError(f"alignment: unknown name {name!r}; expected one of {', '.join(ALIGNMENTS)}")


class AdaptObjective(nn.Module):
    """Cross-entropy on labelled clips (label >= 0) + ``weight`` x alignment(synthetic, real).

    ::

        x -> model.temporal_features (B, D, T') --mean--> features (B, D) -> clip_head -> CE on labelled
                          |                                   |
                          '-- ta3n (frames)                   '-- dann / coral / mmd (clips)

    With ``ta3n`` the clip head classifies the attention-pooled features, as in TA3N.
    A batch without one of the domains contributes no alignment term.

    Args:
        model: an ``ActionModel`` (``temporal_features``, ``clip_head``, ``out_features``).
        alignment: a loss from :func:`create_alignment` or ``None``.
        weight: weight of the alignment term.
    """

    def __init__(self, model: nn.Module, alignment: nn.Module | None, *, weight: float = 1.0):
        super().__init__()
        self.model, self.alignment, self.weight = model, alignment, weight
        self.classification = ClassificationLoss()
        self.last_temporal: torch.Tensor | None = None  # the last batch's backbone features, detached

    def forward(self, x: torch.Tensor, label: torch.Tensor, domain: torch.Tensor) -> tuple[torch.Tensor, dict]:
        temporal = self.model.temporal_features(x)
        self.last_temporal = temporal.detach()
        synthetic, real = domain == 0, domain == 1
        both = bool(synthetic.any()) and bool(real.any())
        align = temporal.new_zeros(())
        if isinstance(self.alignment, TemporalAttentiveAlignment) and both:
            out = self.alignment(temporal[synthetic], temporal[real])
            features = temporal.new_empty(temporal.shape[:2])
            features[synthetic], features[real] = out["source_clip"], out["target_clip"]
            align = out["loss"]
        else:
            features = temporal.mean(-1)
            if self.alignment is not None and both and not isinstance(self.alignment, TemporalAttentiveAlignment):
                align = self.alignment(features[synthetic], features[real])
        logits = self.model.clip_head(features)
        cls = self.classification(logits, label)
        return cls + self.weight * align, dict(classification=cls.item(), alignment=align.item())


def fit_adapt(objective: AdaptObjective, batches: Callable[[int], Iterable[dict]], *, epochs: int, lr: float = 1e-3,
              prepare: Callable[[torch.Tensor], torch.Tensor] | None = None, device: str = "cpu") -> list[dict]:
    """Train ``objective`` with AdamW; return per-epoch mean losses.

    Args:
        batches: ``epoch -> iterable of batch dicts`` (``video``, ``label``, ``domain``),
            e.g. ``lambda e: (loader.batch_sampler.set_epoch(e), loader)[1]``.
        prepare: batch ``video`` -> model input on ``device`` (e.g. ``to_float_video``
            then an ``InputTransform``); default: as it is.
    """
    objective.to(device).train()
    optimizer = torch.optim.AdamW(objective.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        totals, steps = {"classification": 0.0, "alignment": 0.0}, 0
        for batch in batches(epoch):
            x = batch["video"].to(device)
            x = prepare(x) if prepare is not None else x
            loss, stats = objective(x, batch["label"].to(device), batch["domain"].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step_reversal_schedules(objective)
            for k in totals:
                totals[k] += stats[k]
            steps += 1
        history.append({k: v / max(steps, 1) for k, v in totals.items()})
    return history
