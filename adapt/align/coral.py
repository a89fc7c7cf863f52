"""Deep CORAL: align the second-order statistics of two feature sets."""

from __future__ import annotations

import torch
from torch import nn

from simgen.adapt.align._shapes import check_pair


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Unbiased covariance of the rows of ``x``: ``(N, D) -> (D, D)``, ``N >= 2``."""
    centred = x - x.mean(0, keepdim=True)
    return centred.T @ centred / (x.shape[0] - 1)


class CoralLoss(nn.Module):
    """CORAL loss (Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain
    Adaptation", ECCV 2016 workshops, eq. 1).

    .. math::
        \\mathcal{L}_{CORAL} = \\frac{1}{4 d^2} \\lVert C_S - C_T \\rVert_F^2,
        \\qquad C = \\frac{1}{n - 1}\\Big(X^\\top X - \\tfrac{1}{n}(\\mathbf 1^\\top X)^\\top(\\mathbf 1^\\top X)\\Big)

    where :math:`d` is the feature size and :math:`C_S, C_T` the unbiased feature
    covariances of source and target. It is zero when the covariances match,
    whatever the means (the paper's choice; pair it with a classifier loss or MMD
    to align means too).

    Shape:
        source ``(N_s, D)`` or ``(B_s, D, T)``, target ``(N_t, D)`` or ``(B_t, D, T)``,
        at least 2 samples each -> scalar.

    Example:
        >>> loss = CoralLoss()
        >>> x = torch.randn(16, 4)
        >>> float(loss(x, x))
        0.0
        >>> float(loss(x, 3 * x)) > 0
        True
    """

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        s, t = check_pair(source, target, min_samples=2)
        d = s.shape[1]
        return (covariance(s) - covariance(t)).pow(2).sum() / (4 * d * d)
