"""Torch dataset over a reader: cache, fps resampling, temporal sampling, collation.

A sample is a dict: ``video`` uint8 ``[T,H,W,3]`` (converted to float on the device,
so the host ships 4x fewer bytes), ``label`` (-1 unlabelled), ``domain`` (0 synthetic,
1 real), ``frame_labels`` ``[T]`` (-1 unknown) and ``key``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from simgen.train.data.cache import FrameCache, content_fingerprint
from simgen.train.data.samplers import resample_fps, sample_indices
from simgen.train.errors import TrainDataError

log = logging.getLogger(__name__)


class ClipDataset(torch.utils.data.Dataset):
    """Fixed-length clips from a reader.

    Args:
        reader: a :class:`RealFolderReader` / :class:`SyntheticReader` (``read``,
            ``rows``, ``classes``, ``domain``, ``size``).
        cache: a :class:`FrameCache`; clips are decoded once.
        num_frames: ``T`` of each sample.
        sampler: ``random_window`` / ``uniform`` / ``tsn`` / ``center_window``.
        stride: frame gap for window samplers (on the ``fps`` timeline).
        fps: resample every clip to this rate first (``None`` keeps native).
        seed: base seed; sample ``i`` in epoch ``e`` draws from ``(seed, e, i)`` so runs
            reproduce regardless of DataLoader worker count.
        strict: raise on the first corrupt clip instead of skipping it.
        background_label: frames with this label (e.g. ``transition``) get frame label
            ``len(classes)`` (the per-frame head's background output); ``None``: unknown (-1).
    """

    def __init__(self, reader, cache: FrameCache, *, num_frames: int, sampler: str = "random_window",
                 stride: int = 1, fps: float | None = None, seed: int = 0, strict: bool = False,
                 background_label: str | None = None):
        self.reader = reader
        self.cache = cache
        self.classes = list(reader.classes)
        self.num_frames = num_frames
        self.sampler = sampler
        self.stride = stride
        self.fps = fps
        self.seed = seed
        self.strict = strict
        self.background_label = background_label
        self.epoch = 0
        self.indices = list(range(len(reader)))
        self.skipped: list[tuple[str, str]] = []
        self._keys: dict[int, str] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _cache_key(self, i: int) -> str:
        if i not in self._keys:  # computed once: real files are hashed for it
            self._keys[i] = (f"{Path(self.reader.root).resolve()}|{self.reader.rows[i]['path']}|size={self.reader.size}"
                             f"|{content_fingerprint(self.reader, i)}")
        return self._keys[i]

    def load(self, i: int) -> tuple[np.ndarray, dict]:
        """Frames and annotations of reader clip ``i`` (through the cache)."""
        return self.cache.get(self._cache_key(i), lambda: self.reader.read(i))

    def prepare(self, *, progress: bool = True) -> list[tuple[str, str]]:
        """Decode every clip into the cache now; skip (or, if strict, raise on) bad ones.

        Doing it before the first epoch is what keeps a corrupt file from crashing
        training mid-epoch.

        Returns:
            ``[(path, reason)]`` of skipped clips.
        """
        good = []
        for i in tqdm(range(len(self.reader)), desc=f"decode {Path(self.reader.root).name}",
                      disable=not progress, leave=False):
            try:
                frames, ann = self.load(i)
                if len(frames) == 0:
                    raise TrainDataError(f"{self.reader.rows[i]['path']}: clip has no frames")
                good.append(i)
            except TrainDataError as exc:
                if self.strict:
                    raise
                self.skipped.append((self.reader.rows[i]["path"], str(exc)))
                log.warning("skipping corrupt clip: %s", exc)
        self.indices = good
        return self.skipped

    def __len__(self) -> int:
        return len(self.indices)

    def _timeline(self, frames: np.ndarray, ann: dict) -> np.ndarray:
        return resample_fps(len(frames), float(ann.get("fps") or 25.0), self.fps)

    def _frame_labels(self, ann: dict, idx: np.ndarray) -> np.ndarray:
        names = ann.get("frame_labels")
        if not names:
            return np.full(len(idx), -1, dtype=np.int64)
        lut = {c: k for k, c in enumerate(self.classes)}
        if self.background_label is not None:
            lut.setdefault(self.background_label, len(self.classes))
        # frames outside every known class (e.g. transitions without a background output) are "unknown" (-1)
        per_frame = np.array([lut.get(n, -1) if n is not None else -1 for n in names], dtype=np.int64)
        return per_frame[np.minimum(idx, len(per_frame) - 1)]

    def _sample(self, i: int, frame_idx: np.ndarray, frames: np.ndarray, ann: dict) -> dict:
        label = ann.get("label")
        if label is not None and label not in self.classes:
            raise TrainDataError(f"{self.reader.rows[i]['path']}: label {label!r} is not in the class list {self.classes}")
        return dict(
            video=torch.from_numpy(np.ascontiguousarray(frames[frame_idx])),
            label=self.classes.index(label) if label else -1,
            domain=int(self.reader.domain),
            frame_labels=torch.from_numpy(self._frame_labels(ann, frame_idx)),
            key=str(self.reader.rows[i]["key"]),
        )

    def __getitem__(self, j: int) -> dict:
        i = self.indices[j]
        frames, ann = self.load(i)
        timeline = self._timeline(frames, ann)
        rng = np.random.default_rng((self.seed, self.epoch, i))
        pick = sample_indices(self.sampler, len(timeline), self.num_frames, stride=self.stride, rng=rng)
        sample = self._sample(i, timeline[pick], frames, ann)
        sample["epoch"] = self.epoch  # workers hold a copy of the dataset; the batch says which epoch it is
        return sample

    def clip(self, j: int) -> dict:
        """The whole clip ``j`` on the ``fps`` timeline (for evaluation).

        Returns:
            dict with ``frames`` uint8 ``[N,H,W,3]``, ``frame_labels`` ``int64[N]``,
            ``label`` (-1 unknown), ``domain``, ``key``.
        """
        i = self.indices[j]
        frames, ann = self.load(i)
        timeline = self._timeline(frames, ann)
        s = self._sample(i, timeline, frames, ann)
        return dict(frames=s["video"], frame_labels=s["frame_labels"], label=s["label"], domain=s["domain"], key=s["key"])


def collate_clips(samples: list[dict]) -> dict:
    """Stack samples into a batch dict (``video`` stays uint8 ``[B,T,H,W,3]`` until the device)."""
    return dict(
        video=torch.stack([s["video"] for s in samples]),
        label=torch.tensor([s["label"] for s in samples], dtype=torch.long),
        domain=torch.tensor([s["domain"] for s in samples], dtype=torch.long),
        frame_labels=torch.stack([s["frame_labels"] for s in samples]),
        key=[s["key"] for s in samples],
    )


def to_float_video(video_uint8: torch.Tensor) -> torch.Tensor:
    """``uint8[B,T,H,W,3]`` -> float ``[B,3,T,H,W]`` in ``[0, 1]`` (done on the device)."""
    return video_uint8.permute(0, 4, 1, 2, 3).float().div_(255.0)
