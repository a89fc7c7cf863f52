"""``tiny3d``: a small 3D CNN that trains on the CPU in minutes."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn


def _conv_block(c_in: int, c_out: int, stride: tuple[int, int, int], norm: Callable[[int], nn.Module]) -> nn.Module:
    # (2+1)D factorisation: a spatial 1x3x3 then a temporal 3x1x1 conv costs about a third
    # of a full 3x3x3 conv and trains as well at this size (Tran et al., CVPR 2018).
    return nn.Sequential(
        nn.Conv3d(c_in, c_out, (1, 3, 3), stride=(1, stride[1], stride[2]), padding=(0, 1, 1), bias=False),
        norm(c_out), nn.ReLU(inplace=True),
        nn.Conv3d(c_out, c_out, (3, 1, 1), stride=(stride[0], 1, 1), padding=(1, 0, 0), bias=False),
        norm(c_out), nn.ReLU(inplace=True),
    )


class Tiny3D(nn.Module):
    """Stem plus a stack of (2+1)D conv blocks, spatially pooled to temporal features.

    Shape:
        ``(B, C, T, H, W) -> (B, widths[-1], T / prod(temporal_strides))``.
    """

    def __init__(self, stem: nn.Module, blocks: nn.Sequential, out_features: int, *, spatial_pool: str = "avgmax"):
        super().__init__()
        self.stem, self.blocks, self.out_features = stem, blocks, out_features
        if spatial_pool not in ("avg", "max", "avgmax"):
            raise ValueError(f"spatial_pool must be avg, max or avgmax, got {spatial_pool!r}")
        self.spatial_pool = spatial_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x)).flatten(-2)
        if self.spatial_pool == "avg":
            return x.mean(-1)
        if self.spatial_pool == "max":
            return x.amax(-1)
        # a small actor fills few cells of the last map: the max keeps its response from being
        # averaged away by background, the mean keeps a gradient for every cell
        return x.mean(-1) + x.amax(-1)


def create_tiny3d(
    *,
    in_channels: int = 3,
    widths: Sequence[int] = (24, 48, 96, 192),
    temporal_strides: Sequence[int] = (1, 1, 2, 1),
    norm: Callable[[int], nn.Module] = nn.BatchNorm3d,
    spatial_pool: str = "avgmax",
) -> Tiny3D:
    """Build the ``tiny3d`` backbone.

    ::

        x (B,C,T,64,64)
          stem   conv 1x5x5 /2 -> widths[0]             (B,16,T,32,32)
          block  (2+1)D /2     -> widths[1]             (B,32,T,16,16)
          block  (2+1)D /2 t/2 -> widths[2]             (B,64,T/2,8,8)
          block  (2+1)D /2     -> widths[3]             (B,128,T/2,4,4)
          mean + max over H,W                           (B,128,T/2)

    Args:
        in_channels: input channels (3 rgb, 1 gray/diff).
        widths: channels of the stem and of each block.
        temporal_strides: temporal stride of the stem (first) and each block.
        norm: normalisation layer constructor.
        spatial_pool: ``avg``, ``max`` or ``avgmax`` (sum of both) over the last map.

    Example:
        >>> create_tiny3d(in_channels=1)(torch.rand(2, 1, 8, 64, 64)).shape
        torch.Size([2, 128, 4])
    """
    if len(widths) != len(temporal_strides) or len(widths) < 2:
        raise ValueError("widths and temporal_strides need the same length (>= 2)")
    stem = nn.Sequential(
        nn.Conv3d(in_channels, widths[0], (1, 5, 5), stride=(temporal_strides[0], 2, 2), padding=(0, 2, 2), bias=False),
        norm(widths[0]), nn.ReLU(inplace=True),
    )
    blocks = nn.Sequential(*[
        _conv_block(widths[i - 1], widths[i], (temporal_strides[i], 2, 2), norm) for i in range(1, len(widths))
    ])
    return Tiny3D(stem, blocks, widths[-1], spatial_pool=spatial_pool)
