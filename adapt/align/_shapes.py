"""Shape handling shared by the alignment losses."""

from __future__ import annotations

import torch


def as_samples(features: torch.Tensor, name: str = "features") -> torch.Tensor:
    """Clip features ``(N, D)`` as they are; frame features ``(B, D, T)`` as ``(B*T, D)``.

    Frame-level alignment treats every time step of every clip as one sample of the
    domain's feature distribution.
    """
    if features.dim() == 2:
        return features
    if features.dim() == 3:
        return features.permute(0, 2, 1).reshape(-1, features.shape[1])
    raise ValueError(f"{name}: expected clip features (N, D) or frame features (B, D, T), got shape {tuple(features.shape)}")


def check_pair(source: torch.Tensor, target: torch.Tensor, *, min_samples: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sides as ``(N, D)`` samples with the same ``D`` and at least ``min_samples`` rows."""
    s, t = as_samples(source, "source"), as_samples(target, "target")
    if s.shape[1] != t.shape[1]:
        raise ValueError(f"source and target feature sizes differ: {s.shape[1]} vs {t.shape[1]}")
    for name, x in (("source", s), ("target", t)):
        if x.shape[0] < min_samples:
            raise ValueError(f"{name}: needs at least {min_samples} samples, got {x.shape[0]}")
    return s, t


def split_by_domain(features: torch.Tensor, domain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a mixed batch by its ``domain`` tags: ``(synthetic = 0, real = 1)``.

    Example:
        >>> f = torch.arange(6.).view(3, 2)
        >>> s, t = split_by_domain(f, torch.tensor([0, 1, 0]))
        >>> s.tolist(), t.tolist()
        ([[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0]])
    """
    domain = domain.to(features.device)
    return features[domain == 0], features[domain == 1]
