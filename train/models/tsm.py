"""``tsm_r18``: Temporal Shift Module on ResNet-18 (Lin et al., "TSM", ICCV 2019)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from simgen.train.models.torchvision_video import import_torchvision, load_matching, load_weights_file


def temporal_shift(x: torch.Tensor, num_frames: int, fold_div: int = 8) -> torch.Tensor:
    """Shift 1/fold_div of the channels one step back in time and 1/fold_div forward.

    This gives a 2D CNN temporal receptive field at zero FLOPs.

    Shape:
        ``(B*T, C, H, W) -> (B*T, C, H, W)``.
    """
    bt, c, h, w = x.shape
    x = x.view(bt // num_frames, num_frames, c, h, w)
    fold = c // fold_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]  # frame t sees t+1
    out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # frame t sees t-1
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
    return out.view(bt, c, h, w)


class ShiftedConv(nn.Module):
    """A conv preceded by a temporal shift (TSM's "residual shift": inside the residual branch)."""

    def __init__(self, conv: nn.Module, fold_div: int):
        super().__init__()
        self.conv, self.fold_div = conv, fold_div
        self.num_frames = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(temporal_shift(x, self.num_frames, self.fold_div))


class TSMResNet(nn.Module):
    """ResNet-18 applied per frame, with shifts in every basic block.

    Shape:
        ``(B, C, T, H, W) -> (B, 512, T)``.
    """

    def __init__(self, resnet: nn.Module, fold_div: int):
        super().__init__()
        self.shifts: list[ShiftedConv] = []
        for layer in (resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4):
            for block in layer:
                block.conv1 = ShiftedConv(block.conv1, fold_div)
                self.shifts.append(block.conv1)
        self.trunk = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool,
                                   resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4)
        self.out_features = 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        for s in self.shifts:
            s.num_frames = t
        frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        feats = self.trunk(frames).mean(dim=(-2, -1))
        return feats.view(b, t, -1).permute(0, 2, 1)


def create_tsm_r18(*, in_channels: int = 3, fold_div: int = 8, weights: str | Path | None = None) -> TSMResNet:
    """Build TSM-ResNet-18.

    ::

        x (B,C,T,H,W) -> frames (B*T,C,H,W) -> ResNet-18 [shift -> conv1 in each block]
          -> mean H,W (B*T,512) -> (B,512,T)

    Args:
        in_channels: input channels; the stem conv is rebuilt (mean-inflated from RGB weights).
        fold_div: 1/fold_div of channels shift each way.
        weights: optional torchvision ResNet-18 state dict file (``weights_only=True``).
    """
    resnet = import_torchvision().models.resnet18(weights=None)
    if weights is not None:
        load_matching(resnet, load_weights_file(weights), path=weights, name="resnet18", ignore=("fc.",))
    if in_channels != 3:
        old = resnet.conv1
        resnet.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        with torch.no_grad():
            resnet.conv1.weight.copy_(old.weight.mean(1, keepdim=True).expand_as(resnet.conv1.weight) * 3 / in_channels)
    return TSMResNet(resnet, fold_div)
