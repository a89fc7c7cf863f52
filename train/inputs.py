"""Input representations: RGB, grayscale, temporal difference, RGB + difference."""

from __future__ import annotations

import torch
from torch import nn

INPUT_MODES = ("rgb", "gray", "diff", "rgb+diff")
_MEAN, _STD = 0.45, 0.225  # Kinetics statistics, so torchvision weights see familiar ranges


def input_channels(mode: str) -> int:
    """Channels a model receives for ``mode``."""
    return {"rgb": 3, "gray": 1, "diff": 1, "rgb+diff": 4}[check_mode(mode)]


def check_mode(mode: str) -> str:
    if mode not in INPUT_MODES:
        raise ValueError(f"unknown input mode {mode!r}; expected one of {list(INPUT_MODES)}")
    return mode


def to_gray(video: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma: ``(B,3,T,H,W) -> (B,1,T,H,W)``."""
    w = torch.tensor([0.299, 0.587, 0.114], device=video.device, dtype=video.dtype).view(1, 3, 1, 1, 1)
    return (video * w).sum(1, keepdim=True)


def temporal_difference(gray: torch.Tensor) -> torch.Tensor:
    """Frame gradient ``d[t] = g[t] - g[t-1]``, ``d[0] = d[1]``, keeping ``T`` for per-frame heads."""
    d = gray[:, :, 1:] - gray[:, :, :-1]
    if d.shape[2] == 0:
        return torch.zeros_like(gray)
    return torch.cat([d[:, :, :1], d], dim=2)


class InputTransform(nn.Module):
    """Turn augmented RGB clips into the model's input representation.

    Motion-centred inputs (difference) discard appearance that differs between
    rendered and real frames (DESIGN.md, finding 3).

    Args:
        mode: ``rgb`` | ``gray`` | ``diff`` | ``rgb+diff`` (channels 0-2 RGB, 3 difference:
            the two-stream models split them again).
        diff_scale: multiplier bringing frame differences to roughly unit variance.

    Shape:
        ``(B, 3, T, H, W)`` in ``[0,1]`` -> ``(B, input_channels(mode), T, H, W)``.

    Example:
        >>> InputTransform("rgb+diff")(torch.rand(2, 3, 8, 16, 16)).shape
        torch.Size([2, 4, 8, 16, 16])
    """

    def __init__(self, mode: str = "rgb", *, diff_scale: float = 8.0):
        super().__init__()
        self.mode = check_mode(mode)
        self.diff_scale = diff_scale

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if video.shape[1] != 3:
            raise ValueError(f"InputTransform expects RGB clips (B,3,T,H,W), got {tuple(video.shape)}")
        if self.mode == "rgb":
            return (video - _MEAN) / _STD
        gray = to_gray(video)
        if self.mode == "gray":
            return (gray - _MEAN) / _STD
        diff = temporal_difference(gray) * self.diff_scale
        if self.mode == "diff":
            return diff
        return torch.cat([(video - _MEAN) / _STD, diff], dim=1)
