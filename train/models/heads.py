"""Clip and per-frame classification heads, and the model that joins backbone and heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ClipHead(nn.Module):
    """Dropout + linear on clip features.

    Shape:
        ``(B, D) -> (B, K)``.
    """

    def __init__(self, in_features: int, num_classes: int, *, dropout: float = 0.3):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(features))


class FrameHead(nn.Module):
    """Per-frame classifier: a temporal conv over backbone time steps, upsampled to ``T``.

    The kernel-3 conv lets each step see its neighbours, which smooths the
    backbone's (possibly strided) time axis before linear upsampling.

    Shape:
        ``(B, D, T') -> (B, K, T)``.
    """

    def __init__(self, in_features: int, num_classes: int, *, hidden: int = 128, dropout: float = 0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(in_features, hidden, 3, padding=1), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Conv1d(hidden, num_classes, 1),
        )

    def forward(self, temporal_features: torch.Tensor, num_frames: int) -> torch.Tensor:
        logits = self.net(temporal_features)
        if logits.shape[-1] != num_frames:
            logits = F.interpolate(logits, size=num_frames, mode="linear", align_corners=False)
        return logits


class TemporalDropout(nn.Module):
    """Drop whole time steps while training: every channel of a step is zeroed together.

    ``mode="features"`` is applied to the backbone's temporal features ``(B,D,T')`` and
    rescales the kept steps by ``1/(1-rate)`` (inverted dropout: nothing to undo at
    evaluation); ``mode="frames"`` to the model input ``(B,C,T,H,W)``, where a dropped frame
    becomes zero input (no motion for ``diff``, the mean colour for ``rgb``), unscaled.
    Either way the heads must label a step from its neighbours, which discourages
    per-step flicker (the sequence heads' context has to carry the label).

    Args:
        rate: probability that a step (or frame) is dropped, in ``[0, 1)``.
        mode: ``features`` | ``frames``.
    """

    def __init__(self, rate: float = 0.0, mode: str = "features"):
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError(f"temporal dropout rate must be in [0, 1), got {rate}")
        if mode not in ("features", "frames"):
            raise ValueError(f"temporal dropout mode must be features or frames, got {mode!r}")
        self.rate, self.mode = rate, mode

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        t_dim = 2  # (B,D,T') and (B,C,T,H,W) both keep time on dim 2
        shape = [x.shape[0], 1, x.shape[t_dim]] + [1] * (x.dim() - 3)
        keep = (torch.rand(shape, generator=generator, device="cpu") >= self.rate).to(x.device, x.dtype)
        if self.mode == "features":
            keep = keep / (1 - self.rate)
        return x * keep


class ActionModel(nn.Module):
    """Backbone + clip head (+ optional per-frame head).

    ::

        x (B,C,T,H,W) -> backbone -> temporal features (B,D,T')
                                         |-- mean over T' -> features (B,D) -> ClipHead  -> clip  (B,K)
                                         '-- frame head, upsample to T     -> frame (B,K,T)

    The frame head is the ``linear`` :class:`FrameHead` or a sequence head
    (:mod:`simgen.train.models.sequence`); a multi-stage head also returns every stage's
    logits as ``frame_stages`` (training losses). ``features(x)`` is what domain
    adaptation (``adapt/``) aligns.

    Args:
        backbone: module mapping ``(B,C,T,H,W)`` to ``(B,D,T')``, with ``out_features = D``.
        clip_head: ``(B,D) -> (B,K)``.
        frame_head: ``(B,D,T'), T -> (B,K,T)`` or ``None``.
        temporal_dropout: a :class:`TemporalDropout` (active in training only), or ``None``.
    """

    def __init__(self, backbone: nn.Module, clip_head: nn.Module, frame_head: nn.Module | None = None,
                 temporal_dropout: TemporalDropout | None = None):
        super().__init__()
        self.backbone = backbone
        self.clip_head = clip_head
        self.frame_head = frame_head
        self.temporal_dropout = temporal_dropout
        self.out_features = backbone.out_features

    @property
    def sequence_head(self) -> bool:
        """Whether the frame head models the sequence (every frame head, this one's too, scores long videos on
        stitched features: :func:`simgen.train.evaluate.frame_scores`)."""
        return self.frame_head is not None and not isinstance(self.frame_head, FrameHead)

    def temporal_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,C,T,H,W) -> (B,D,T')``."""
        return self.backbone(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Clip features before the heads: ``(B,C,T,H,W) -> (B,D)``."""
        return self.temporal_features(x).mean(-1)

    def frame_outputs(self, temporal: torch.Tensor, num_frames: int) -> dict[str, torch.Tensor]:
        """The frame head's outputs for temporal features ``(B,D,T')``: ``frame`` (+ ``frame_stages``)."""
        stages = getattr(self.frame_head, "stage_logits", None)
        if stages is None:
            return dict(frame=self.frame_head(temporal, num_frames))
        logits = stages(temporal, num_frames)
        return dict(frame=logits[-1], frame_stages=logits)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Returns ``dict(features=(B,D), temporal=(B,D,T'), clip=(B,K)[, frame=(B,K,T)])``."""
        drop = self.temporal_dropout
        if drop is not None and drop.mode == "frames":
            x = drop(x)
        temporal = self.temporal_features(x)
        if drop is not None and drop.mode == "features":
            temporal = drop(temporal)
        pooled = temporal.mean(-1)
        out = dict(features=pooled, temporal=temporal, clip=self.clip_head(pooled))
        if self.frame_head is not None:
            out.update(self.frame_outputs(temporal, x.shape[2]))
        return out


class TwoStream(nn.Module):
    """Late-fusion two-stream backbone: channels ``[:split]`` and ``[split:]`` go to separate backbones.

    Shape:
        ``(B, C1+C2, T, H, W) -> (B, D1+D2, T')`` (both streams must give the same ``T'``).
    """

    def __init__(self, first: nn.Module, second: nn.Module, *, split: int):
        super().__init__()
        self.first, self.second, self.split = first, second, split
        self.out_features = first.out_features + second.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.first(x[:, : self.split])
        b = self.second(x[:, self.split :])
        if a.shape[-1] != b.shape[-1]:
            b = F.interpolate(b, size=a.shape[-1], mode="linear", align_corners=False)
        return torch.cat([a, b], dim=1)
