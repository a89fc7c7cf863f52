"""``tiny3d_2rate``: a two-rate (SlowFast-style) backbone built from tiny3d's blocks.

SlowFast (Feichtenhofer, Fan, Malik & He, ICCV 2019) reads one clip at two frame rates:
a *slow* pathway sees every ``alpha``-th frame with many channels (what is there: pose,
long context per step), a *fast* pathway sees every frame with few channels (how it moves:
brief, gesture-like motion), and lateral connections pass the fast pathway's motion into
the slow one. Here both pathways are tiny3d stacks; each lateral is SlowFast's
time-strided convolution (kernel 5, stride ``alpha``, ``2 x`` the fast channels),
concatenated to the slow features before the next block. For the same window the slow
pathway's temporal kernels span ``alpha`` times more frames than tiny3d's.

::

    x (B,C,T,H,W) --every frame--------> fast stem -> blocks (widths/4)          -> (B,Df,T/2)
      '-----------every alpha-th frame-> slow stem -> blocks (tiny3d widths)    -> (B,Ds,T/(2 alpha))
                     lateral after the stem and each block but the last: fast -> slow
    output: concat(fast, slow upsampled to T/2 by nearest step)                 -> (B,Df+Ds,T/2)

The output keeps the fast pathway's time resolution (one step per two frames, like tiny3d),
so the per-frame and sequence heads, the windowed stitching and ``features()`` work unchanged.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from simgen.train.models.tiny3d import _conv_block


def _stem(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(nn.Conv3d(c_in, c_out, (1, 5, 5), stride=(1, 2, 2), padding=(0, 2, 2), bias=False),
                         nn.BatchNorm3d(c_out), nn.ReLU(inplace=True))


def _pool(x: torch.Tensor) -> torch.Tensor:
    # tiny3d's avg+max spatial pooling: (B,C,T,h,w) -> (B,C,T)
    x = x.flatten(-2)
    return x.mean(-1) + x.amax(-1)


class TwoRate(nn.Module):
    """Slow + fast pathways with fast-to-slow lateral connections.

    Args:
        in_channels: input channels.
        alpha: frame-rate ratio: the slow pathway reads frames ``0, alpha, 2 alpha, ...``.
        slow_widths, fast_widths: channels of the stem and each block (fast: about a quarter,
            SlowFast's ``beta``).
        temporal_strides: temporal stride of each block (stem excluded), as tiny3d's.

    Shape:
        ``(B, C, T, H, W) -> (B, fast_widths[-1] + slow_widths[-1], ceil(T / prod(temporal_strides)))``.
    """

    def __init__(self, in_channels: int, *, alpha: int = 4, slow_widths: Sequence[int] = (24, 48, 96, 192),
                 fast_widths: Sequence[int] = (8, 16, 32, 64), temporal_strides: Sequence[int] = (1, 2, 1)):
        super().__init__()
        if alpha < 1:
            raise ValueError(f"alpha must be >= 1, got {alpha}")
        if not len(slow_widths) == len(fast_widths) == len(temporal_strides) + 1:
            raise ValueError("slow_widths and fast_widths need one entry more than temporal_strides (the stem)")
        self.alpha = alpha
        self.fast_stem, self.slow_stem = _stem(in_channels, fast_widths[0]), _stem(in_channels, slow_widths[0])
        n = len(temporal_strides)
        self.laterals = nn.ModuleList([
            nn.Sequential(nn.Conv3d(fast_widths[i], 2 * fast_widths[i], (5, 1, 1), stride=(alpha, 1, 1),
                                    padding=(2, 0, 0), bias=False), nn.BatchNorm3d(2 * fast_widths[i]),
                          nn.ReLU(inplace=True))
            for i in range(n)])
        self.fast_blocks = nn.ModuleList([
            _conv_block(fast_widths[i], fast_widths[i + 1], (temporal_strides[i], 2, 2), nn.BatchNorm3d)
            for i in range(n)])
        self.slow_blocks = nn.ModuleList([
            _conv_block(slow_widths[i] + 2 * fast_widths[i], slow_widths[i + 1], (temporal_strides[i], 2, 2),
                        nn.BatchNorm3d)
            for i in range(n)])
        self.out_features = fast_widths[-1] + slow_widths[-1]

    def _lateral(self, i: int, fast: torch.Tensor, slow: torch.Tensor) -> torch.Tensor:
        side = self.laterals[i](fast)
        if side.shape[2] != slow.shape[2]:  # ceil divisions agree in theory; guard odd lengths anyway
            side = F.interpolate(side, size=slow.shape[2:], mode="nearest")
        return torch.cat([slow, side], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fast = self.fast_stem(x)
        slow = self.slow_stem(x[:, :, :: self.alpha])
        for i, (fb, sb) in enumerate(zip(self.fast_blocks, self.slow_blocks)):
            slow = sb(self._lateral(i, fast, slow))
            fast = fb(fast)
        f, s = _pool(fast), _pool(slow)
        s = F.interpolate(s, size=f.shape[-1], mode="nearest")  # slow step k covers fast steps [k alpha, (k+1) alpha)
        return torch.cat([f, s], 1)


def create_tiny3d_2rate(*, in_channels: int = 3, alpha: int = 4) -> TwoRate:
    """The ``tiny3d_2rate`` backbone (default sizes; see :class:`TwoRate`).

    Example:
        >>> create_tiny3d_2rate(in_channels=1)(torch.rand(2, 1, 16, 64, 64)).shape
        torch.Size([2, 256, 8])
    """
    return TwoRate(in_channels, alpha=alpha)
