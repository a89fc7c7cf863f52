"""Sequence heads: per-frame classifiers that see the whole sequence of backbone time steps.

Every head maps the backbone's temporal features ``(B, D, T')`` to per-frame logits
``(B, K, T)`` like :class:`~simgen.train.models.heads.FrameHead` (the ``linear`` head),
so they drop into :class:`~simgen.train.models.heads.ActionModel` unchanged. In training
they see one window's ``T'`` steps; at evaluation a long video's features are stitched
from overlapping windows first (:mod:`simgen.train.windowed`) and the head runs over the
whole video, so its context is the video, not the window.

- ``transformer``: a temporal transformer encoder; relative position biases (default,
  any length) or learned absolute positions; ``causal`` masks the future.
- ``gru``: a bidirectional GRU (one direction when ``causal``).
- ``mstcn``: MS-TCN (Farha & Gall, CVPR 2019): stages of dilated residual 1D convolutions,
  each stage refining the previous stage's class probabilities; every stage's logits
  are returned (:meth:`stage_logits`) for the per-stage losses and the smoothing loss
  (:func:`simgen.train.objectives.temporal.truncated_mse`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HEADS = ("linear", "transformer", "gru", "mstcn")


def upsample(logits: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``(B,K,T') -> (B,K,T)`` by linear interpolation (identity when ``T' == T``)."""
    if logits.shape[-1] == num_frames:
        return logits
    return F.interpolate(logits, size=num_frames, mode="linear", align_corners=False)


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention, with a learned bias per head and clipped relative distance when ``relative``.

    The bias depends only on ``j - i`` clipped to ``±max_distance`` (Shaw et al., NAACL
    2018; the T5 bias), so a head trained on short windows runs on sequences of any length.
    """

    def __init__(self, dim: int, heads: int, *, relative: bool = True, max_distance: int = 32, dropout: float = 0.1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of heads {heads}")
        self.heads, self.max_distance, self.dropout = heads, max_distance, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        # only when used: DDP (find_unused_parameters=False) refuses parameters without gradients
        self.bias = nn.Parameter(torch.zeros(2 * max_distance + 1, heads)) if relative else None

    def forward(self, x: torch.Tensor, *, causal: bool = False) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        mask = torch.zeros(t, t, device=x.device, dtype=q.dtype)
        if self.bias is not None:
            pos = torch.arange(t, device=x.device)
            rel = (pos[None, :] - pos[:, None]).clamp(-self.max_distance, self.max_distance) + self.max_distance
            mask = self.bias[rel].permute(2, 0, 1).to(q.dtype)  # (heads, t, t)
        if causal:
            mask = mask.masked_fill(torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class TransformerLayer(nn.Module):
    """Pre-norm transformer encoder layer over ``(B, T, dim)``."""

    def __init__(self, dim: int, heads: int, *, dropout: float, relative: bool, max_distance: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = RelativeSelfAttention(dim, heads, relative=relative, max_distance=max_distance, dropout=dropout)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, *, causal: bool) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), causal=causal))
        return x + self.drop(self.ff(self.norm2(x)))


class TransformerFrameHead(nn.Module):
    """Temporal transformer over backbone time steps.

    Args:
        in_features: ``D``. num_classes: ``K`` (+1 with a background output).
        dim, layers, heads: width, depth and attention heads.
        positions: ``relative`` (clipped relative-distance biases; any length) or ``learned``
            (absolute position embeddings, up to ``max_len`` steps: the head has only seen
            the positions of a training window, so prefer ``relative`` for long videos).
        causal: each step attends to itself and the past only (streaming use).

    Shape:
        ``(B, D, T'), T -> (B, K, T)``.
    """

    def __init__(self, in_features: int, num_classes: int, *, dim: int = 64, layers: int = 2, heads: int = 4,
                 positions: str = "relative", causal: bool = False, dropout: float = 0.3, max_len: int = 4096,
                 max_distance: int = 32):
        super().__init__()
        if positions not in ("relative", "learned"):
            raise ValueError(f"positions must be relative or learned, got {positions!r}")
        self.positions, self.causal, self.max_len = positions, causal, max_len
        self.inp = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, dim))
        self.pos = nn.Embedding(max_len, dim) if positions == "learned" else None
        self.layers = nn.ModuleList([TransformerLayer(dim, heads, dropout=0.1, relative=positions == "relative",
                                                      max_distance=max_distance) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, num_classes)

    def forward(self, temporal_features: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.inp(temporal_features.transpose(1, 2))
        if self.pos is not None:
            t = x.shape[1]
            if t > self.max_len:
                raise ValueError(f"sequence of {t} steps is longer than the learned positions ({self.max_len}); "
                                 "use positions='relative'")
            x = x + self.pos(torch.arange(t, device=x.device))[None]
        for layer in self.layers:
            x = layer(x, causal=self.causal)
        return upsample(self.out(self.norm(x)).transpose(1, 2), num_frames)


class GRUFrameHead(nn.Module):
    """A GRU over backbone time steps: bidirectional, or forward only when ``causal``.

    Shape:
        ``(B, D, T'), T -> (B, K, T)``.
    """

    def __init__(self, in_features: int, num_classes: int, *, hidden: int = 64, layers: int = 1,
                 causal: bool = False, dropout: float = 0.3):
        super().__init__()
        self.causal = causal
        self.drop = nn.Dropout(dropout)
        self.gru = nn.GRU(in_features, hidden, num_layers=layers, batch_first=True, bidirectional=not causal)
        self.out = nn.Linear(hidden * (1 if causal else 2), num_classes)

    def forward(self, temporal_features: torch.Tensor, num_frames: int) -> torch.Tensor:
        h, _ = self.gru(self.drop(temporal_features.transpose(1, 2)))
        return upsample(self.out(self.drop(h)).transpose(1, 2), num_frames)


class DilatedResidual(nn.Module):
    """MS-TCN's layer: dilated conv (kernel 3) -> ReLU -> 1x1 conv -> dropout, plus the input."""

    def __init__(self, channels: int, dilation: int, *, causal: bool, dropout: float):
        super().__init__()
        self.pad = (2 * dilation, 0) if causal else (dilation, dilation)
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(self.mix(F.relu(self.conv(F.pad(x, self.pad)))))


class TCNStage(nn.Module):
    """One single-stage TCN: 1x1 in, ``layers`` dilated residual layers (dilation 1, 2, 4, ...), 1x1 out."""

    def __init__(self, in_channels: int, channels: int, num_classes: int, layers: int, *, causal: bool,
                 dropout: float):
        super().__init__()
        self.inp = nn.Conv1d(in_channels, channels, 1)
        self.layers = nn.Sequential(*[DilatedResidual(channels, 2 ** i, causal=causal, dropout=dropout)
                                      for i in range(layers)])
        self.out = nn.Conv1d(channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.layers(self.inp(x)))


class MSTCNHead(nn.Module):
    """Multi-stage TCN (Farha & Gall, CVPR 2019): stage 1 reads features, stage ``s`` the softmax of stage ``s-1``.

    Args:
        stages, layers, channels: MS-TCN's 4 / 10 / 64 by default; here 3 / 6 / 64 (a receptive
            field of 127 backbone steps, several seconds, is enough for short actions on a CPU).
        causal: left-padded convolutions (no future frames).

    Shape:
        ``(B, D, T'), T -> (B, K, T)``; :meth:`stage_logits` returns every stage's.
    """

    def __init__(self, in_features: int, num_classes: int, *, stages: int = 3, layers: int = 6, channels: int = 64,
                 causal: bool = False, dropout: float = 0.3):
        super().__init__()
        self.causal = causal
        self.drop = nn.Dropout(dropout)
        self.stages = nn.ModuleList(
            [TCNStage(in_features if s == 0 else num_classes, channels, num_classes, layers, causal=causal,
                      dropout=0.5 * dropout) for s in range(stages)])

    def stage_logits(self, temporal_features: torch.Tensor, num_frames: int) -> list[torch.Tensor]:
        """Every stage's logits ``[(B,K,T)] * stages`` (the last is the head's output)."""
        out = self.stages[0](self.drop(temporal_features))
        logits = [out]
        for stage in self.stages[1:]:
            out = stage(torch.softmax(out, dim=1))
            logits.append(out)
        return [upsample(l, num_frames) for l in logits]

    def forward(self, temporal_features: torch.Tensor, num_frames: int) -> torch.Tensor:
        return self.stage_logits(temporal_features, num_frames)[-1]


def create_sequence_head(name: str, in_features: int, num_classes: int, *, dropout: float = 0.3,
                         causal: bool = False, positions: str = "relative") -> nn.Module:
    """A sequence head by name (``transformer`` | ``gru`` | ``mstcn``)."""
    if name == "transformer":
        return TransformerFrameHead(in_features, num_classes, positions=positions, causal=causal, dropout=dropout)
    if name == "gru":
        return GRUFrameHead(in_features, num_classes, causal=causal, dropout=dropout)
    if name == "mstcn":
        return MSTCNHead(in_features, num_classes, causal=causal, dropout=dropout)
    raise ValueError(f"unknown head {name!r}; expected one of {list(HEADS)}")

