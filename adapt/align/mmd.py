"""Multi-kernel maximum mean discrepancy (MK-MMD), the alignment loss of DAN."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from simgen.adapt.align._shapes import check_pair


def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``||x_i - y_j||^2`` for rows of ``(N, D)`` and ``(M, D)`` -> ``(N, M)``.

    The expanded form needs no ``(N, M, D)`` intermediate; rounding can make it
    slightly negative, hence the clamp.
    """
    return (x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1) - 2 * x @ y.T).clamp_min(0)


class MultiKernelMMD(nn.Module):
    """Squared MK-MMD between source and target features (Long et al., "Learning
    Transferable Features with Deep Adaptation Networks", ICML 2015; estimators from
    Gretton et al., "A Kernel Two-Sample Test", JMLR 2012, eqs. 2-3).

    The kernel is an equal-weight mixture of Gaussians,

    .. math::
        k(x, y) = \\frac1m \\sum_{u=1}^m \\exp\\!\\Big(-\\frac{\\lVert x - y\\rVert^2}{\\beta_u\\, \\bar\\sigma^2}\\Big),

    with bandwidths :math:`\\beta_u \\bar\\sigma^2` multiples of the mean squared
    pairwise distance :math:`\\bar\\sigma^2` over the pooled source+target samples
    (off the diagonal). :math:`\\bar\\sigma^2` is treated as a constant (no
    gradient), as a bandwidth heuristic should be. DAN learns the mixture weights;
    here they are fixed and equal.

    * **biased** (``unbiased=False``, the default; the V-statistic):
      :math:`\\overline{K_{ss}} + \\overline{K_{tt}} - 2\\,\\overline{K_{st}}`, means over
      all entries. It is the squared distance between the two mean embeddings, so
      it is never negative and is exactly 0 when the two sample sets are equal.
    * **unbiased** (``unbiased=True``; the U-statistic): the same with the
      diagonals of :math:`K_{ss}, K_{tt}` left out of their means. Its expectation
      is 0 when both domains have the same distribution, so single values may be
      negative; on two *identical* sets it is :math:`-2(1 - \\overline{K_{ss}^{\\neq}})/n`.

    Args:
        bandwidth_multipliers: the :math:`\\beta_u`.
        bandwidth: a fixed :math:`\\bar\\sigma^2` instead of the data-driven one.
        unbiased: which estimator (see above).

    Shape:
        source ``(N_s, D)`` or ``(B_s, D, T)``, target ``(N_t, D)`` or ``(B_t, D, T)``
        -> scalar (the unbiased estimator needs at least 2 samples per side).

    Example:
        >>> mmd = MultiKernelMMD()
        >>> x = torch.randn(32, 8)
        >>> float(mmd(x, x))
        0.0
        >>> float(mmd(x, x + 2.0)) > float(mmd(x, x + 0.5)) > 0
        True
    """

    def __init__(self, bandwidth_multipliers: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0), *,
                 bandwidth: float | None = None, unbiased: bool = False):
        super().__init__()
        if not bandwidth_multipliers or min(bandwidth_multipliers) <= 0:
            raise ValueError(f"bandwidth_multipliers must be positive numbers, got {bandwidth_multipliers}")
        if bandwidth is not None and bandwidth <= 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        self.bandwidth_multipliers = tuple(float(b) for b in bandwidth_multipliers)
        self.bandwidth = bandwidth
        self.unbiased = unbiased

    def kernel(self, distances: torch.Tensor, mean_distance: torch.Tensor | float) -> torch.Tensor:
        return sum(torch.exp(-distances / (b * mean_distance)) for b in self.bandwidth_multipliers) / len(
            self.bandwidth_multipliers)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        s, t = check_pair(source, target, min_samples=2 if self.unbiased else 1)
        pooled = torch.cat([s, t])
        dist = squared_distances(pooled, pooled)
        n = len(pooled)
        if self.bandwidth is not None:
            sigma2 = self.bandwidth
        else:
            # mean off the diagonal; a floor keeps identical points from dividing by zero
            sigma2 = (dist.detach().sum() / max(n * (n - 1), 1)).clamp_min(1e-12)
        k = self.kernel(dist, sigma2)
        ns = len(s)
        k_ss, k_tt, k_st = k[:ns, :ns], k[ns:, ns:], k[:ns, ns:]
        if self.unbiased:
            return _off_diagonal_mean(k_ss) + _off_diagonal_mean(k_tt) - 2 * k_st.mean()
        return k_ss.mean() + k_tt.mean() - 2 * k_st.mean()


def _off_diagonal_mean(k: torch.Tensor) -> torch.Tensor:
    n = k.shape[0]
    return (k.sum() - k.diagonal().sum()) / (n * (n - 1))
