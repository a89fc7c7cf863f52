"""Build an :class:`ActionModel` from a backbone name and an input mode."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from torch import nn

from simgen.train.inputs import TWO_STREAM_INPUTS, check_mode, input_channels
from simgen.train.models.heads import ActionModel, ClipHead, FrameHead, TemporalDropout, TwoStream
from simgen.train.models.sequence import HEADS, create_sequence_head
from simgen.train.models.tiny3d import create_tiny3d
from simgen.train.models.torchvision_video import create_torchvision_backbone
from simgen.train.models.tsm import create_tsm_r18
from simgen.train.models.two_rate import create_tiny3d_2rate


def _tv(name: str) -> Callable[..., nn.Module]:
    def build(*, in_channels: int, weights: str | Path | None = None) -> nn.Module:
        return create_torchvision_backbone(name=name, in_channels=in_channels, weights=weights)
    return build


def _tiny3d(*, in_channels: int, weights: str | Path | None = None) -> nn.Module:
    if weights is not None:
        from simgen.train.errors import WeightsFileError

        raise WeightsFileError(f"{weights}: tiny3d has no pretrained weights; train it from scratch (drop --weights)")
    return create_tiny3d(in_channels=in_channels)


def _tiny3d_2rate(*, in_channels: int, weights: str | Path | None = None) -> nn.Module:
    if weights is not None:
        from simgen.train.errors import WeightsFileError

        raise WeightsFileError(f"{weights}: tiny3d_2rate has no pretrained weights; train it from scratch (drop --weights)")
    return create_tiny3d_2rate(in_channels=in_channels)


def _tsm(*, in_channels: int, weights: str | Path | None = None) -> nn.Module:
    return create_tsm_r18(in_channels=in_channels, weights=weights)


#: backbone name -> builder(*, in_channels, weights) -> module with ``out_features``
BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "tiny3d": _tiny3d,
    "tiny3d_2rate": _tiny3d_2rate,  # slow + fast pathways (SlowFast-style), train/models/two_rate.py
    "tsm_r18": _tsm,
    "r3d_18": _tv("r3d_18"),
    "mc3_18": _tv("mc3_18"),
    "r2plus1d_18": _tv("r2plus1d_18"),
    "s3d": _tv("s3d"),
}


def create_action_model(
    *,
    backbone: str,
    num_classes: int,
    input_mode: str = "rgb",
    frame_head: bool = True,
    frame_background: bool = False,
    dropout: float = 0.3,
    weights: str | Path | None = None,
    head: str = "linear",
    causal: bool = False,
    positions: str = "relative",
    temporal_dropout: float = 0.0,
    temporal_dropout_mode: str = "features",
) -> ActionModel:
    """Build backbone + heads.

    ``rgb+diff`` and ``psrgb+diff`` build two backbones of the same kind (RGB stream,
    difference stream) and concatenate their features (late fusion).

    Args:
        backbone: one of :data:`BACKBONES`.
        num_classes: ``K``.
        input_mode: one of :data:`simgen.train.inputs.INPUT_MODES`.
        frame_head: also build a per-frame head.
        frame_background: the per-frame head gets one more output, ``K``: background
            (transition/idle frames between actions), so it need not give them an action.
        dropout: head dropout.
        weights: optional backbone weights file (torchvision state dict).
        head: the per-frame head: ``linear`` (:class:`FrameHead`) or a sequence head,
            ``transformer`` | ``gru`` | ``mstcn`` (:mod:`simgen.train.models.sequence`).
        causal, positions: sequence-head options (no future frames; transformer positions).
        temporal_dropout, temporal_dropout_mode: :class:`TemporalDropout` rate and mode.

    Example:
        >>> m = create_action_model(backbone="tiny3d", num_classes=4, input_mode="diff")
        >>> m(torch.rand(2, 1, 8, 64, 64))["clip"].shape  # doctest: +SKIP
        torch.Size([2, 4])
    """
    if backbone not in BACKBONES:
        raise ValueError(f"unknown model {backbone!r}; expected one of {sorted(BACKBONES)}")
    check_mode(input_mode)
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; expected one of {list(HEADS)}")
    build = BACKBONES[backbone]
    if input_mode in TWO_STREAM_INPUTS:
        net: nn.Module = TwoStream(build(in_channels=3, weights=weights), build(in_channels=1, weights=weights), split=3)
    else:
        net = build(in_channels=input_channels(input_mode), weights=weights)
    d = net.out_features
    k = num_classes + int(frame_background)
    clip = ClipHead(d, num_classes, dropout=dropout)  # built first: the random initialisation of earlier results
    frame = None
    if frame_head:
        frame = (FrameHead(d, k, dropout=dropout) if head == "linear"
                 else create_sequence_head(head, d, k, dropout=dropout, causal=causal, positions=positions))
    drop = TemporalDropout(temporal_dropout, temporal_dropout_mode) if temporal_dropout > 0 else None
    return ActionModel(net, clip, frame, drop)
