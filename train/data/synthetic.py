"""Reader for synthetic datasets written by ``simgen`` (``dataset.json`` + shards)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simgen.train.data.video_io import fit_frame
from simgen.train.errors import TrainDataError, VideoDecodeError


class SyntheticReader:
    """Clips of a synthetic dataset folder, with the same interface as :class:`RealFolderReader`.

    Wraps ``simgen.dataset.reader.DatasetReader`` (the format's owner) and adds what
    training needs: labels checked against a class list, resizing, a domain id, and
    errors as :class:`TrainDataError` naming the file.

    Args:
        root: folder holding ``dataset.json``, ``manifest.jsonl`` and ``shards/``.
        classes: class list to index labels by; defaults to ``dataset.json``'s.
        size: square side frames are resized to (``None`` keeps them).

    Example:
        >>> reader = SyntheticReader("runs/weizmann4")  # doctest: +SKIP
        >>> frames, ann = reader.read(0)                 # frames uint8[T,H,W,3], ann["frame_labels"]
    """

    domain = 0

    def __init__(self, root: str | Path, *, classes: list[str] | None = None, size: int | None = None):
        from simgen.dataset.reader import DatasetReader
        from simgen.errors import SimgenError

        self.root = Path(root)
        if not (self.root / "dataset.json").is_file():
            raise TrainDataError(f"{self.root}: not a synthetic dataset (no dataset.json)")
        try:
            self._backend = DatasetReader(self.root)
        except SimgenError as exc:
            raise TrainDataError(str(exc)) from exc
        except (KeyError, ValueError, OSError) as exc:
            raise TrainDataError(f"{self.root}: cannot open synthetic dataset ({type(exc).__name__}: {exc})") from exc
        self.size = size
        #: the generation spec (``dataset.json`` ``spec``): its ``fps`` and ``sequence.background_label``
        self.spec = self._backend.meta.get("spec") or {}
        self.classes = list(classes) if classes is not None else list(self._backend.classes)
        if not self.classes:
            raise TrainDataError(f"{self.root / 'dataset.json'}: field 'classes' is missing or empty")
        self.rows = [dict(r, path=r["key"]) for r in self._backend.rows]
        if not self.rows:
            raise TrainDataError(f"{self.root / 'manifest.jsonl'}: dataset has no complete clips")
        for r in self.rows:
            if r.get("label") not in self.classes:
                raise TrainDataError(
                    f"{self.root / 'manifest.jsonl'}: clip {r['key']} has label {r.get('label')!r}, "
                    f"not in the class list {self.classes}"
                )

    def __len__(self) -> int:
        return len(self.rows)

    def key(self, index: int) -> str:
        return self.rows[index]["key"]

    def label_index(self, index: int) -> int:
        return self.classes.index(self.rows[index]["label"])

    def read(self, index_or_key: int | str) -> tuple[np.ndarray, dict]:
        """Decode one clip: ``(frames uint8[T,H,W,3], annotations dict)`` (see the shard format)."""
        row = self.rows[index_or_key] if isinstance(index_or_key, int) else None
        name = f"{self.root}/shards/{row['shard']}:{row['key']}" if row else f"{self.root}:{index_or_key}"
        try:
            frames, ann = self._backend.read(index_or_key)
        except Exception as exc:  # corrupt mp4/json inside a shard, missing member, truncated tar
            raise VideoDecodeError(f"{name}: cannot read clip ({type(exc).__name__}: {exc})") from exc
        frames = np.asarray(frames)
        if self.size is not None and frames.shape[1:3] != (self.size, self.size):
            frames = np.stack([fit_frame(f, self.size) for f in frames])
        return frames, ann


def open_reader(root: str | Path, *, classes: list[str] | None = None, size: int | None = None,
                subjects: list[str] | None = None, exclude_subjects: list[str] | None = None):
    """A :class:`SyntheticReader` when ``root/dataset.json`` exists, else a :class:`RealFolderReader`.

    ``subjects`` / ``exclude_subjects`` select real clips by person (see :class:`RealFolderReader`).
    """
    from simgen.train.data.real import RealFolderReader

    root = Path(root)
    if not root.exists():
        raise TrainDataError(f"{root}: data folder not found")
    if (root / "dataset.json").is_file():
        if subjects is not None or exclude_subjects is not None:
            raise TrainDataError(f"{root}: a synthetic dataset has no subjects; select people in a real folder only")
        return SyntheticReader(root, classes=classes, size=size)
    return RealFolderReader(root, classes=classes, size=size, subjects=subjects, exclude_subjects=exclude_subjects)
