"""Real clips seen through a fold: labels from the benchmark's own table, hidden where they must be.

One decoded copy of each clip (a shared :class:`FrameCache`) serves every fold and view;
the label a training step sees comes from the view, never from the cache or the file,
so a clip used unlabelled can never leak its label into a batch or a sampler.
"""

from __future__ import annotations

import numpy as np

from simgen.adapt.benchmark.folds import BenchmarkInputError, RealRow, map_labels
from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache
from simgen.train.errors import TrainDataError


class LabelView:
    """A reader over ``base``'s clips whose labels are ``labels[i]`` (-1 hidden), in ``classes``.

    Has the reader interface :class:`ClipDataset` and the mixed-batch sampler use
    (``rows``, ``classes``, ``domain``, ``root``, ``size``, ``read``, ``label_index``).
    """

    def __init__(self, base, classes: list[str], labels: dict[int, int]):
        self.base, self.classes, self.labels = base, list(classes), dict(labels)
        self.rows, self.root, self.size, self.domain = base.rows, base.root, base.size, base.domain

    def __len__(self) -> int:
        return len(self.rows)

    def read(self, i):
        return self.base.read(i)

    def label_index(self, i: int) -> int:
        return self.labels.get(i, -1)


class ViewDataset(ClipDataset):
    """A :class:`ClipDataset` over the clips ``indices`` of a :class:`LabelView`, labelled by the view."""

    def __init__(self, view: LabelView, indices, cache: FrameCache, **kwargs):
        super().__init__(view, cache, **kwargs)
        self.indices = [int(i) for i in indices]

    def load(self, i: int):
        frames, ann = super().load(i)
        k = self.reader.label_index(i)
        ann = dict(ann, label=self.classes[k] if k >= 0 else None)
        if k < 0:
            ann.pop("frame_labels", None)  # per-frame truth would be a label too
        return frames, ann


class RealClips:
    """Every clip of a real folder, decoded once, with labels mapped onto the synthetic classes.

    Args:
        root: the real folder (``labels.csv`` with ``path,label,subject``).
        classes: the synthetic class list.
        label_map: real label -> synthetic class.
        size: frame side.
        cache: the shared frame cache.
    """

    def __init__(self, root, classes: list[str], label_map: dict[str, str], *, size: int, cache: FrameCache):
        from simgen.train.data.real import RealFolderReader

        self.reader = RealFolderReader(root, size=size)  # its own sorted label list: mapped below
        self.classes, self.cache = list(classes), cache
        where = f"{self.reader.root / 'labels.csv'}"
        labels = map_labels([r["label"] for r in self.reader.rows], self.classes, label_map, where)
        self.rows = [RealRow(path=r["path"], label=k, subject=r.get("subject", "")) for r, k in zip(self.reader.rows, labels)]
        self._all = ClipDataset(self.reader, self.cache, num_frames=1)  # keeps the file digests of the cache keys

    def decode_all(self, progress: bool = False, indices=None) -> None:
        """Decode every clip (or those of ``indices``) now: an undecodable file stops before any training."""
        for i in range(len(self.rows)) if indices is None else indices:
            try:
                frames, _ = self._all.load(i)
            except TrainDataError as exc:
                raise BenchmarkInputError(f"{exc} (listed in {self.reader.root / 'labels.csv'})") from None
            if len(frames) == 0:
                raise BenchmarkInputError(f"{self.reader.root / self.rows[i].path}: video has no frames")

    def dataset(self, indices, *, hide_labels=(), sampler: str, **kwargs) -> ViewDataset:
        """The clips ``indices``; those in ``hide_labels`` come unlabelled (-1)."""
        hidden = set(hide_labels)
        labels = {i: (-1 if i in hidden else self.rows[i].label) for i in indices}
        return ViewDataset(LabelView(self.reader, self.classes, labels), indices, self.cache, sampler=sampler, **kwargs)

    def clip(self, i: int):
        """Clip ``i`` as a :class:`~simgen.adapt.benchmark.scoring.Clip` (frames, fps, mapped label, person)."""
        from simgen.adapt.benchmark.scoring import Clip

        frames, fps = self.frames(i)
        r = self.rows[i]
        return Clip(key=r.path, frames=frames, fps=fps, label=r.label, subject=r.subject)

    def frames(self, i: int) -> tuple[np.ndarray, float]:
        """Decoded frames ``uint8[T,H,W,3]`` of clip ``i`` and their frame rate."""
        frames, ann = self._all.load(i)
        return np.asarray(frames), float(ann.get("fps") or 25.0)


def fold_training_sets(real: RealClips, fold, *, sampler: str, **kwargs) -> tuple[ViewDataset | None, ViewDataset]:
    """``(shots, real_train)`` of a fold: the labelled shots alone (``None`` at 0 shots), and the
    shots plus the training people's other clips with their labels hidden."""
    shots = real.dataset(fold.shots, sampler=sampler, **kwargs) if fold.shots else None
    train = real.dataset((*fold.shots, *fold.unlabelled), hide_labels=fold.unlabelled, sampler=sampler, **kwargs)
    return shots, train
