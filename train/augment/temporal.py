"""Temporal augmentation as per-clip frame-index maps.

Each transform samples, per clip, an index map ``idx[B, T]`` into the clip's own
frames (kornia's generate-parameters / apply split). Index maps compose, and the
same map re-times per-frame labels, so weak/segment supervision stays aligned.
All randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import abc

import torch
from torch import nn


def _rand(n: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=generator)


class TemporalIndexTransform(nn.Module, abc.ABC):
    """Base class: ``generate_parameters`` -> ``idx[B,T]``; ``apply_transform`` gathers frames.

    Args:
        p: probability a clip is transformed (others get the identity map).
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    @abc.abstractmethod
    def sample_map(self, t: int, generator: torch.Generator | None) -> torch.Tensor:
        """Implemented by every transform."""

    def generate_parameters(self, batch: int, t: int, generator: torch.Generator | None = None) -> torch.Tensor:
        identity = torch.arange(t)
        apply = _rand(batch, generator) < self.p
        maps = [self.sample_map(t, generator) if apply[i] else identity for i in range(batch)]
        return torch.stack(maps).long()

    @staticmethod
    def apply_transform(video: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Gather frames: ``video (B,C,T,H,W)``, ``idx (B,T')`` -> ``(B,C,T',H,W)``."""
        b, c, _, h, w = video.shape
        gather = idx.to(video.device).view(b, 1, -1, 1, 1).expand(b, c, idx.shape[1], h, w)
        return torch.gather(video, 2, gather)

    def forward(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.apply_transform(video, self.generate_parameters(video.shape[0], video.shape[2], generator))


class RandomSpeed(TemporalIndexTransform):
    """Play the clip faster or slower about its centre (nearest frame; ends repeat when sped up).

    Args:
        speed: ``(min, max)`` playback-rate factor.
    """

    def __init__(self, speed: tuple[float, float] = (0.75, 1.33), p: float = 0.5):
        super().__init__(p)
        self.speed = speed

    def sample_map(self, t, generator):
        s = self.speed[0] + (self.speed[1] - self.speed[0]) * float(_rand(1, generator))
        centre = (t - 1) / 2
        return (centre + (torch.arange(t) - centre) * s).round().clamp(0, t - 1).long()


class RandomFrameDrop(TemporalIndexTransform):
    """Drop frames at random, holding the previous frame (a stuttering camera or encoder).

    Args:
        drop_rate: probability each frame (after the first) is dropped.
    """

    def __init__(self, drop_rate: float = 0.15, p: float = 0.5):
        super().__init__(p)
        self.drop_rate = drop_rate

    def sample_map(self, t, generator):
        keep = _rand(t, generator) >= self.drop_rate
        keep[0] = True
        idx = torch.arange(t) * keep
        return torch.cummax(idx, dim=0).values


class RandomFrameRate(TemporalIndexTransform):
    """Replay the clip as a slower camera would have filmed it: sample and hold.

    A camera running ``d`` times slower (``d`` drawn per clip from ``divisor``, with a random
    phase) captures a frame every ``d`` frames; each output frame shows the latest such capture
    (the first frame at or after its capture time), as a low-rate video replayed at the model's rate does.
    Unlike :class:`RandomFrameDrop` (random stutter) the holds are regular, and unlike
    :class:`RandomSpeed` the action keeps its speed.

    Args:
        divisor: ``(min, max)`` rate divisor on the clip's own timeline (``1``: unchanged). A
            training window samples every ``stride``-th frame, so on the video's timeline the
            divisor is ``stride`` times this.
    """

    def __init__(self, divisor: tuple[float, float] = (1.0, 2.0), p: float = 0.5):
        super().__init__(p)
        if not 1.0 <= divisor[0] <= divisor[1]:
            raise ValueError(f"divisor must be (min, max) with 1 <= min <= max, got {divisor}")
        self.divisor = divisor

    def sample_map(self, t, generator):
        u = _rand(2, generator)
        d = self.divisor[0] + (self.divisor[1] - self.divisor[0]) * float(u[0])
        phase = float(u[1]) * d
        shot = torch.floor((torch.arange(t) + phase) / d)  # the slow camera's latest capture
        return torch.ceil(shot * d - phase).clamp(0, t - 1).long()  # the first source frame at or after the capture


class RandomReverse(TemporalIndexTransform):
    """Play the clip backwards (only for actions that are their own reverse)."""

    def sample_map(self, t, generator):
        return torch.arange(t - 1, -1, -1)


class RandomTemporalCrop(TemporalIndexTransform):
    """Crop a contiguous part of the clip and stretch it back to ``T`` frames.

    Args:
        min_fraction: shortest crop as a fraction of ``T``.
    """

    def __init__(self, min_fraction: float = 0.6, p: float = 0.5):
        super().__init__(p)
        self.min_fraction = min_fraction

    def sample_map(self, t, generator):
        length = max(1, round(t * (self.min_fraction + (1 - self.min_fraction) * float(_rand(1, generator)))))
        start = int(_rand(1, generator) * (t - length + 1))
        return (start + torch.arange(t) * (length / t)).floor().clamp(max=t - 1).long()


class TemporalCompose(nn.Module):
    """Chain temporal transforms by composing their index maps (one gather in the end)."""

    def __init__(self, *transforms: TemporalIndexTransform):
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def generate_parameters(self, batch: int, t: int, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = torch.arange(t).expand(batch, t)
        for tr in self.transforms:
            idx = torch.gather(idx, 1, tr.generate_parameters(batch, t, generator))
        return idx

    def forward(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = self.generate_parameters(video.shape[0], video.shape[2], generator)
        return TemporalIndexTransform.apply_transform(video, idx)
