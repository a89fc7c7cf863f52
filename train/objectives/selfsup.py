"""Self-supervised temporal pretext tasks for unlabelled clips (synthetic or real).

Each task is a small ``nn.Module`` holding its own head. ``make_batch`` builds the
pretext inputs and targets from raw clips (pure, seedable, testable); ``forward``
runs the model's ``temporal_features`` on them and returns ``dict(loss, accuracy)``.
``encode`` maps raw ``[0,1]`` RGB clips to model input (augmentation + input mode).
"""

from __future__ import annotations

import itertools
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

Encode = Callable[[torch.Tensor], torch.Tensor]


def _gather_time(video: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    b, c, _, h, w = video.shape
    return torch.gather(video, 2, idx.to(video.device).view(b, 1, -1, 1, 1).expand(b, c, idx.shape[1], h, w))


class _Classifier(nn.Module):
    def __init__(self, in_features: int, num_outputs: int):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(in_features, 128), nn.ReLU(inplace=True), nn.Linear(128, num_outputs))

    def run(self, model, inputs: torch.Tensor, target: torch.Tensor) -> dict:
        logits = self.head(model.features(inputs))
        return dict(loss=F.cross_entropy(logits.float(), target.to(logits.device)),
                    accuracy=(logits.argmax(1) == target.to(logits.device)).float().mean().detach())


class TemporalOrderVerification(_Classifier):
    """Is the clip in temporal order? (Misra et al., "Shuffle and Learn", ECCV 2016).

    The clip is cut into ``num_segments`` equal parts; half the clips have their parts
    permuted (never the identity). Target 1 = in order.

    Shape:
        ``video (B,C,T,H,W)`` -> inputs ``(B,C,S*(T//S),H,W)``, targets ``(B,)``.
    """

    def __init__(self, in_features: int, *, num_segments: int = 3):
        super().__init__(in_features, 2)
        self.num_segments = num_segments
        self.permutations = [p for p in itertools.permutations(range(num_segments)) if list(p) != sorted(p)]

    def make_batch(self, video: torch.Tensor, generator: torch.Generator | None = None):
        b, t = video.shape[0], video.shape[2]
        seg = t // self.num_segments
        if seg < 1:
            raise ValueError(f"clip of {t} frames is too short for {self.num_segments} segments")
        ordered = torch.rand(b, generator=generator) < 0.5
        choice = torch.randint(len(self.permutations), (b,), generator=generator)
        rows = []
        for i in range(b):
            order = range(self.num_segments) if ordered[i] else self.permutations[int(choice[i])]
            rows.append(torch.cat([torch.arange(s * seg, (s + 1) * seg) for s in order]))
        return _gather_time(video, torch.stack(rows)), ordered.long()

    def forward(self, model, video, *, encode: Encode, generator=None) -> dict:
        x, y = self.make_batch(video, generator)
        return self.run(model, encode(x), y)


class PlaybackSpeedPrediction(_Classifier):
    """Which playback speed was the clip sampled at? (Benaim et al., "SpeedNet", CVPR 2020).

    A window of ``T // max(speeds)`` frames, every ``speed``-th frame from a random start.

    Shape:
        ``video (B,C,T,H,W)`` -> inputs ``(B,C,T//max(speeds),H,W)``, targets ``(B,)`` (speed index).
    """

    def __init__(self, in_features: int, *, speeds: tuple[int, ...] = (1, 2)):
        super().__init__(in_features, len(speeds))
        self.speeds = speeds

    def make_batch(self, video: torch.Tensor, generator: torch.Generator | None = None):
        b, t = video.shape[0], video.shape[2]
        n = t // max(self.speeds)
        if n < 2:
            raise ValueError(f"clip of {t} frames is too short for speeds {self.speeds}")
        target = torch.randint(len(self.speeds), (b,), generator=generator)
        rows = []
        for i in range(b):
            k = self.speeds[int(target[i])]
            start = int(torch.randint(t - k * (n - 1), (1,), generator=generator))
            rows.append(start + k * torch.arange(n))
        return _gather_time(video, torch.stack(rows)), target

    def forward(self, model, video, *, encode: Encode, generator=None) -> dict:
        x, y = self.make_batch(video, generator)
        return self.run(model, encode(x), y)


class ArrowOfTime(_Classifier):
    """Is the clip playing forwards or backwards? (Wei et al., "Learning and Using the Arrow of Time", CVPR 2018).

    Target 1 = reversed.
    """

    def make_batch(self, video: torch.Tensor, generator: torch.Generator | None = None):
        b, t = video.shape[0], video.shape[2]
        reversed_ = torch.rand(b, generator=generator) < 0.5
        fwd = torch.arange(t)
        idx = torch.stack([fwd.flip(0) if r else fwd for r in reversed_])
        return _gather_time(video, idx), reversed_.long()

    def __init__(self, in_features: int):
        super().__init__(in_features, 2)

    def forward(self, model, video, *, encode: Encode, generator=None) -> dict:
        x, y = self.make_batch(video, generator)
        return self.run(model, encode(x), y)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE / NT-Xent: row ``i`` of ``a`` and ``b`` are positives, other rows negatives.

    ``L = -1/2N sum_i [log softmax_j(a_i.b_j/tau)_i + log softmax_j(b_i.a_j/tau)_i]`` on unit vectors.

    Shape:
        ``a, b (N, D)`` -> scalar.
    """
    a, b = F.normalize(a.float(), dim=-1), F.normalize(b.float(), dim=-1)
    logits = a @ b.t() / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


class TemporalContrastive(nn.Module):
    """Two augmented views of one clip: clip-level and time-step-level contrast.

    Clip level (SimCLR/CVRL, Qian et al., CVPR 2021): the two views of a clip are
    positives, other clips in the batch negatives. Time-step level (TCLR, Dave et al.,
    2022): step ``t`` of one view is positive with step ``t`` of the other view and
    negative with the clip's other steps, so features stay temporally distinct
    instead of collapsing to a clip constant (which per-frame heads would suffer).
    Both views keep the same frame indices (spatial/colour/camera augmentation only),
    so step ``t`` shows the same instant in both.

    Args:
        in_features: ``D`` of the model's temporal features.
        projection_dim: output of the projection MLP.
        temperature: ``tau``.
        temporal_weight: weight of the time-step term.
    """

    def __init__(self, in_features: int, *, projection_dim: int = 64, temperature: float = 0.1,
                 temporal_weight: float = 0.5):
        super().__init__()
        self.project = nn.Sequential(nn.Conv1d(in_features, 128, 1), nn.ReLU(inplace=True), nn.Conv1d(128, projection_dim, 1))
        self.temperature = temperature
        self.temporal_weight = temporal_weight

    def loss(self, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
        """``za, zb (B, P, T')`` projected temporal features of the two views -> scalar."""
        clip = info_nce(za.mean(-1), zb.mean(-1), self.temperature)
        if za.shape[-1] < 2 or self.temporal_weight == 0:
            return clip
        local = torch.stack([info_nce(za[i].t(), zb[i].t(), self.temperature) for i in range(za.shape[0])]).mean()
        return clip + self.temporal_weight * local

    def forward(self, model, video, *, encode: Encode, generator=None) -> dict:
        za = self.project(model.temporal_features(encode(video)))
        zb = self.project(model.temporal_features(encode(video)))
        loss = self.loss(za, zb)
        with torch.no_grad():
            sim = F.normalize(za.mean(-1), dim=-1) @ F.normalize(zb.mean(-1), dim=-1).t()
            acc = (sim.argmax(1) == torch.arange(sim.shape[0], device=sim.device)).float().mean()
        return dict(loss=loss, accuracy=acc)


PRETEXT_TASKS = {
    "order": TemporalOrderVerification,
    "speed": PlaybackSpeedPrediction,
    "arrow": ArrowOfTime,
    "contrastive": TemporalContrastive,
}
