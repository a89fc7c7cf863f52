"""Batches that mix synthetic and real clips at a stated ratio, class-balanced on labelled items.

Index convention: ``ConcatDataset([synthetic, real])`` — synthetic items are
``0 .. n_syn-1``, real items follow. Items carry ``domain`` (0 synthetic, 1 real) and
``label`` (-1 unlabelled) from :class:`simgen.train.data.batch.ClipDataset`.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np
import torch

from simgen.train.data.batch import collate_clips

SYNTHETIC, REAL = 0, 1


def _share(total: float, step: int) -> int:
    """Items of step ``step`` so that the running count after ``k`` steps is ``round(k * total)``.

    Per-step counts differ by at most one and never drift from the stated ratio,
    even when ``batch_size * fraction`` is not a whole number.
    """
    return math.floor((step + 1) * total + 0.5) - math.floor(step * total + 0.5)


class _Cycle:
    """Endless draws from ``items``: a fresh shuffle each pass, so each pass uses every item once."""

    def __init__(self, items: Sequence[int], rng: np.random.Generator):
        self.items, self.rng, self.order, self.pos = np.asarray(items), rng, np.empty(0, dtype=np.int64), 0

    def next(self) -> int:
        if self.pos == len(self.order):
            self.order, self.pos = self.rng.permutation(self.items), 0
        self.pos += 1
        return int(self.order[self.pos - 1])


class _DomainPool:
    """One domain's items: labelled ones drawn class-balanced, unlabelled ones uniformly.

    Classes come in shuffled rounds (every class once per round), so among the
    labelled draws each class is equally frequent whatever its item count.
    """

    def __init__(self, labels: np.ndarray, offset: int, labelled_fraction: float | None, rng: np.random.Generator,
                 name: str):
        labelled = np.flatnonzero(labels >= 0)
        unlabelled = np.flatnonzero(labels < 0)
        if labelled_fraction is None:
            labelled_fraction = len(labelled) / max(len(labels), 1)
        if labelled_fraction > 0 and len(labelled) == 0:
            raise ValueError(f"{name}: labelled_fraction={labelled_fraction} but no item is labelled")
        if labelled_fraction < 1 and len(unlabelled) == 0:
            raise ValueError(f"{name}: labelled_fraction={labelled_fraction} but every item is labelled")
        self.labelled_fraction, self.rng, self.drawn_batches = labelled_fraction, rng, 0
        self.classes = np.unique(labels[labelled])
        self.by_class = {int(c): _Cycle(offset + labelled[labels[labelled] == c], rng) for c in self.classes}
        self.class_rounds = _Cycle(self.classes, rng)
        self.unlabelled = _Cycle(offset + unlabelled, rng) if len(unlabelled) else None
        self.labelled_total = 0
        self.drawn_total = 0

    def draw(self, n: int) -> list[int]:
        # running totals keep the labelled share exact over the epoch, like the domain share
        n_lab = (math.floor((self.drawn_total + n) * self.labelled_fraction + 0.5)
                 - math.floor(self.drawn_total * self.labelled_fraction + 0.5))
        self.drawn_total += n
        out = [self.by_class[self.class_rounds.next()].next() for _ in range(n_lab)]
        out += [self.unlabelled.next() for _ in range(n - n_lab)]
        return out


class MixedDomainBatchSampler(torch.utils.data.Sampler):
    """Batch sampler over ``ConcatDataset([synthetic, real])`` with a fixed synthetic share.

    Each batch holds ``round(batch_size * synthetic_fraction)`` synthetic items
    (exactly, over the epoch: per-batch counts differ by at most one when the
    product is not whole) and real items for the rest. Within each domain,
    labelled items are drawn class-balanced (each class equally often) and
    unlabelled ones (label -1) uniformly; ``*_labelled_fraction`` sets how many
    of a domain's slots go to labelled items (``None``: in proportion to their
    count). Items are drawn with replacement across passes: every item of a
    class (or of the unlabelled pool) is used once before any is used again.

    All randomness comes from ``numpy.random.default_rng((seed, epoch))``: the
    same seed and epoch give the same batches; call :meth:`set_epoch` to move on.

    Args:
        synthetic_labels: class index per synthetic item (-1 unlabelled).
        real_labels: class index per real item (-1 unlabelled).
        batch_size: items per batch.
        synthetic_fraction: share of synthetic items in each batch, in ``[0, 1]``.
        num_batches: batches per epoch.
        seed: base seed.
        real_labelled_fraction, synthetic_labelled_fraction: share of a domain's
            slots taken by its labelled items.

    Example:
        >>> sampler = MixedDomainBatchSampler([0, 0, 0, 1], [-1, -1, 2], batch_size=4,
        ...                                   synthetic_fraction=0.5, num_batches=2, seed=0)
        >>> [len(b) for b in sampler], len(sampler)
        ([4, 4], 2)
        >>> all(i < 4 for b in sampler for i in b[:2]) and all(i >= 4 for b in sampler for i in b[2:])
        True
    """

    def __init__(self, synthetic_labels: Sequence[int], real_labels: Sequence[int], *, batch_size: int,
                 synthetic_fraction: float, num_batches: int, seed: int,
                 real_labelled_fraction: float | None = None, synthetic_labelled_fraction: float | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if num_batches < 1:
            raise ValueError(f"num_batches must be at least 1, got {num_batches}")
        for name, value in (("synthetic_fraction", synthetic_fraction), ("real_labelled_fraction", real_labelled_fraction),
                            ("synthetic_labelled_fraction", synthetic_labelled_fraction)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.synthetic_labels = np.asarray(synthetic_labels, dtype=np.int64).reshape(-1)
        self.real_labels = np.asarray(real_labels, dtype=np.int64).reshape(-1)
        if synthetic_fraction > 0 and len(self.synthetic_labels) == 0:
            raise ValueError(f"synthetic_fraction={synthetic_fraction} but there are no synthetic items")
        if synthetic_fraction < 1 and len(self.real_labels) == 0:
            raise ValueError(f"synthetic_fraction={synthetic_fraction} but there are no real items")
        self.batch_size, self.synthetic_fraction, self.num_batches = batch_size, synthetic_fraction, num_batches
        self.seed, self.epoch = seed, 0
        self.labelled_fraction = {SYNTHETIC: synthetic_labelled_fraction, REAL: real_labelled_fraction}
        self._pools(np.random.default_rng(0))  # fail now, not in the first epoch, on an impossible setting

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_batches

    def _pools(self, rng: np.random.Generator) -> dict[int, _DomainPool | None]:
        n_syn = len(self.synthetic_labels)
        return {
            SYNTHETIC: _DomainPool(self.synthetic_labels, 0, self.labelled_fraction[SYNTHETIC], rng, "synthetic")
            if self.synthetic_fraction > 0 else None,
            REAL: _DomainPool(self.real_labels, n_syn, self.labelled_fraction[REAL], rng, "real")
            if self.synthetic_fraction < 1 else None,
        }

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng((self.seed, self.epoch))
        pools = self._pools(rng)
        for step in range(self.num_batches):
            n_syn = _share(self.batch_size * self.synthetic_fraction, step)
            batch = pools[SYNTHETIC].draw(n_syn) if n_syn else []
            if self.batch_size - n_syn:
                batch += pools[REAL].draw(self.batch_size - n_syn)
            yield batch


def dataset_labels(dataset) -> list[int]:
    """Class index per item of a :class:`ClipDataset` (-1 unlabelled), read without decoding video."""
    if hasattr(dataset, "reader") and hasattr(dataset, "indices"):
        return [dataset.reader.label_index(i) for i in dataset.indices]
    return [int(dataset[i]["label"]) for i in range(len(dataset))]


def _check_domain(dataset, expected: int, name: str) -> None:
    reader = getattr(dataset, "reader", None)
    if reader is not None and int(getattr(reader, "domain", expected)) != expected:
        raise ValueError(f"{name}: dataset over {getattr(reader, 'root', reader)} has domain {reader.domain}, "
                         f"expected {expected} ({'synthetic' if expected == SYNTHETIC else 'real'})")


def mixed_loader(synthetic, real, *, batch_size: int, synthetic_fraction: float, num_batches: int, seed: int,
                 real_labelled_fraction: float | None = None, workers: int = 0, collate_fn=collate_clips,
                 pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """A DataLoader of mixed batches over two :class:`ClipDataset` s (synthetic, real).

    Batches are :func:`collate_clips` dicts: ``domain`` tells each item's side and
    ``label`` is -1 for unlabelled real clips. The loader's ``batch_sampler`` is a
    :class:`MixedDomainBatchSampler`; call its ``set_epoch`` (and the datasets') each epoch.
    """
    _check_domain(synthetic, SYNTHETIC, "synthetic")
    _check_domain(real, REAL, "real")
    sampler = MixedDomainBatchSampler(dataset_labels(synthetic), dataset_labels(real), batch_size=batch_size,
                                      synthetic_fraction=synthetic_fraction, num_batches=num_batches, seed=seed,
                                      real_labelled_fraction=real_labelled_fraction)
    return torch.utils.data.DataLoader(torch.utils.data.ConcatDataset([synthetic, real]), batch_sampler=sampler,
                                       num_workers=workers, collate_fn=collate_fn, pin_memory=pin_memory)
