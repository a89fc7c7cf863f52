"""Curriculum learning over synthetic clips: easy clips first, hard ones joining on a schedule.

Bengio et al., "Curriculum learning", ICML 2009: present examples in order of difficulty.
Hacohen & Weinshall, "On the power of curriculum learning in training deep networks", ICML 2019:
a *scoring function* ranks the examples and a *pacing function* says what share of the easiest
ones mini-batches are drawn from at each point of training. Here:

- :func:`difficulty` scores a clip in [0, 1] from the factors its generator recorded (manifest
  ``factors``, the annotation's measured ``visible_fraction``): occlusion, camera motion, chained
  actions, and how much of the clip one training window leaves out; a weighted mean.
  Real clips (domain 1) score 2, above every synthetic one: synthetic first, then real.
- :func:`pace` is the share of the clips in the pool at an epoch (linear, root or one step).
- :class:`CurriculumSampler` draws each epoch's clips from the pool only, as many as the whole
  training set (so a curriculum run takes the same steps and learning-rate schedule as one
  without), from a generator seeded with ``(seed, epoch)``: deterministic, and a resumed run
  draws what the uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import torch

#: score of a real clip: above every synthetic one (the synthetic-to-real end of the curriculum)
REAL_SCORE = 2.0


def _components(record: dict, window_span: int) -> dict[str, float]:
    """Each difficulty component of one synthetic clip, in [0, 1] (0 = easiest)."""
    factors = record.get("factors") or {}
    # occlusion: the mean hidden share of the actor, as measured per frame; without the
    # measurement, the planned share of the largest static occluder
    visible = record.get("visible_fraction")
    if visible is not None and len(visible):
        occlusion = 1.0 - float(np.mean(np.clip(np.asarray(visible, dtype=np.float64), 0.0, 1.0)))
    else:
        static = (factors.get("occlusion") or {}).get("static") or []
        occlusion = max([float(s.get("coverage", 0.0)) for s in static], default=0.0)
    # camera motion: the trajectory's amount (0 for a static camera) plus half the shake in degrees
    cam = factors.get("camera") or {}
    moving = cam.get("trajectory", "static") != "static"
    camera = abs(float(cam.get("trajectory_amount", 0.0))) * moving + 0.5 * float(cam.get("shake_deg", 0.0))
    # chained: 0 for one action, 0.5 for two, 1 for three or more
    action = factors.get("action") or {}
    segments = len(action.get("segments") or []) or 1
    chained = min(1.0, (segments - 1) / 2.0) if action.get("chained", segments > 1) else 0.0
    # length: the share of the clip one training window does not see (its label may lie outside it)
    frames = int(record.get("frames") or 0)
    length = 1.0 - min(1.0, window_span / frames) if frames > 0 else 0.0
    return dict(occlusion=min(1.0, max(0.0, occlusion)), camera=min(1.0, camera), chained=chained,
                length=max(0.0, length))


def difficulty(record: dict, weights: dict[str, float], *, window_span: int = 1) -> float:
    """Difficulty of one clip: the ``weights``-weighted mean of its components, in [0, 1]; 2 for a real clip.

    Args:
        record: a manifest row (``factors``, ``frames``), with the annotation's ``visible_fraction``
            when known, and ``domain`` (1 = real).
        weights: ``{occlusion, camera, chained, length}`` -> weight (>= 0, not all 0).
        window_span: frames one training window spans, ``(num_frames - 1) * stride + 1``.
    """
    if int(record.get("domain", 0)) == 1:
        return REAL_SCORE
    parts = _components(record, window_span)
    total = sum(weights.values())
    return float(sum(w * parts[k] for k, w in weights.items()) / total) if total > 0 else 0.0


def pace(epoch: int, *, start: float, full_epoch: int, kind: str = "linear") -> float:
    """Share of the clips in the pool at 0-based ``epoch``: ``start`` at the first epoch, 1 from ``full_epoch`` (1-based).

    ``linear`` grows evenly; ``root`` as Platanios et al. (NAACL 2019) competence,
    sqrt(start² + (1 - start²) t) — fast at first; ``step`` stays at ``start`` and jumps to 1
    (Hacohen & Weinshall's single-step pacing).
    """
    if full_epoch <= 1 or epoch + 1 >= full_epoch:
        return 1.0
    t = epoch / (full_epoch - 1)  # 0 at the first epoch, 1 at full_epoch
    if kind == "linear":
        return start + (1.0 - start) * t
    if kind == "root":
        return math.sqrt(start ** 2 + (1.0 - start ** 2) * t)
    if kind == "step":
        return start
    raise ValueError(f"unknown pacing {kind!r}; expected linear, root or step")


def order_by_difficulty(scores: list[float], groups: list[int], seed: int) -> dict[int, list[int]]:
    """Per group (class), the dataset positions from easiest to hardest; ties in a seeded random order."""
    tie = np.random.default_rng((seed, 0xC0C0)).permutation(len(scores))
    out: dict[int, list[int]] = {}
    for pos in sorted(range(len(scores)), key=lambda p: (scores[p], tie[p])):
        out.setdefault(groups[pos], []).append(pos)
    return out


def pool_at(order: dict[int, list[int]], fraction: float) -> list[int]:
    """The easiest ``fraction`` of every group (at least one clip each), as sorted dataset positions.

    Taken per class so that the early pool keeps every class even where difficulty and class
    are correlated (e.g. one action rejected more often under occlusion).
    """
    pool = []
    for members in order.values():
        pool += members[:max(1, math.ceil(fraction * len(members) - 1e-9))]
    return sorted(pool)


class CurriculumSampler(torch.utils.data.Sampler):
    """Dataset positions for one epoch, drawn from the curriculum's pool at that epoch.

    Each epoch yields ``len(scores)`` positions (rounded up to a multiple of ``world``; this
    rank's share): shuffled passes over the pool, as many as needed. Call :meth:`set_epoch`.

    Args:
        scores: difficulty per dataset position (:func:`difficulty`).
        groups: class index per dataset position (the pool is taken per class).
        start, full_epoch, pacing: see :func:`pace`.
        seed: seeds the tie order and every epoch's draw.
        rank, world: this process's share under DDP.
    """

    def __init__(self, scores: list[float], groups: list[int], *, start: float, full_epoch: int,
                 pacing: str = "linear", seed: int = 0, rank: int = 0, world: int = 1):
        self.scores, self.start, self.full_epoch, self.pacing = list(scores), start, full_epoch, pacing
        self.seed, self.rank, self.world = seed, rank, world
        self.order = order_by_difficulty(self.scores, list(groups), seed)
        self.total = math.ceil(len(self.scores) / world) * world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def pool(self, epoch: int | None = None) -> list[int]:
        e = self.epoch if epoch is None else epoch
        return pool_at(self.order, pace(e, start=self.start, full_epoch=self.full_epoch, kind=self.pacing))

    def epoch_indices(self, epoch: int) -> list[int]:
        """Every rank's positions for ``epoch``, before the split by rank."""
        pool = np.asarray(self.pool(epoch))
        rng = np.random.default_rng((self.seed, epoch, 0xC0C0))
        passes = [rng.permutation(pool) for _ in range(math.ceil(self.total / len(pool)))]
        return np.concatenate(passes)[:self.total].tolist()

    def __iter__(self):
        return iter(self.epoch_indices(self.epoch)[self.rank::self.world])

    def __len__(self) -> int:
        return self.total // self.world

    def fingerprint(self) -> str:
        """Hash of the scores and schedule: a resumed run must find the same (``last.pt`` keeps it)."""
        blob = json.dumps(dict(scores=[round(s, 9) for s in self.scores], start=self.start, full=self.full_epoch,
                               pacing=self.pacing, seed=self.seed))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def clip_records(dataset) -> list[dict]:
    """One record per position of a training dataset (a ClipDataset or a ConcatDataset of them).

    Synthetic clips: the manifest row (``factors``, ``frames``) and the annotation's measured
    ``visible_fraction`` (the clip is already decoded into the cache); real clips: ``domain`` 1.
    """
    parts = dataset.datasets if isinstance(dataset, torch.utils.data.ConcatDataset) else [dataset]
    records = []
    for part in parts:
        domain = int(part.reader.domain)
        for i in part.indices:
            if domain == 1:
                records.append(dict(domain=1))
                continue
            row = part.reader.rows[i]
            frames, ann = part.load(i)
            records.append(dict(factors=row.get("factors"), frames=row.get("frames") or len(frames),
                                visible_fraction=ann.get("visible_fraction"), domain=0))
    return records
