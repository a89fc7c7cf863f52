"""Decoded-frame cache: each clip decoded once, then memory-mapped on later epochs."""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def content_fingerprint(reader, index: int) -> str:
    """A digest of clip ``index``'s bytes, part of its cache key.

    A dataset regenerated in place keeps its paths and clip keys; keying the cache by
    path alone would then serve the old frames. Synthetic clips carry the sha256 of
    their shard members in the manifest (``checksum``); real files are hashed (far
    cheaper than decoding them, and done once per clip and run).
    """
    row = reader.rows[index]
    if row.get("checksum"):
        return f"sha256={row['checksum']}"
    root = Path(reader.root)
    if row.get("shard"):  # a synthetic manifest without checksums: the shard's size and time
        st = (root / "shards" / row["shard"]).stat()
        return f"shard={st.st_size}:{st.st_mtime_ns}"
    try:
        with (root / row["path"]).open("rb") as fh:
            return f"sha256={hashlib.file_digest(fh, 'sha256').hexdigest()}"
    except OSError:
        return "unreadable"  # decoding it will fail and name the file


#: how many clips' parsed metadata a :class:`FrameCache` keeps (see ``FrameCache._meta``)
META_KEPT = 512


class FrameCache:
    """Store ``uint8[T,H,W,3]`` clips as raw files that ``np.memmap`` reopens.

    Decoding H.264 costs far more than a training step of a small model; a memory
    map costs almost nothing and is shared by DataLoader workers through the page
    cache. A clip is written to a temporary name and renamed, and its metadata file
    (written last) marks it complete, so a killed run never leaves a half clip that
    looks valid.

    Args:
        directory: where cache files live; ``None`` keeps clips in process memory.

    Example:
        >>> cache = FrameCache(None)
        >>> frames, ann = cache.get("clip-0", lambda: (np.zeros((4, 8, 8, 3), np.uint8), {"fps": 25}))
        >>> frames.shape
        (4, 8, 8, 3)
    """

    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, tuple[np.ndarray, dict]] = {}
        #: the metadata of clips already found on disk, by key, the most recently used last: a clip's JSON is
        #: parsed once, not on every read of every epoch. Parsed, a weizmann4_mixed clip's (per-frame keypoints
        #: and boxes) takes about 250 KB, so at most META_KEPT are kept (~130 MB; a 400-clip set whole)
        self._meta: OrderedDict[str, dict] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha1(key.encode()).hexdigest()[:20]
        assert self.directory is not None
        return self.directory / f"{digest}.u8", self.directory / f"{digest}.json"

    def contains(self, key: str) -> bool:
        if self.directory is None:
            return key in self._memory
        return self._paths(key)[1].is_file()

    def get(self, key: str, load: Callable[[], tuple[np.ndarray, dict]]) -> tuple[np.ndarray, dict]:
        """Return the cached clip for ``key``, calling ``load()`` only on a miss.

        Args:
            key: identifies the clip *and* its decode settings (e.g. frame size).
            load: returns ``(frames uint8[T,H,W,3], annotations)``.
        """
        if self.directory is None:
            if key not in self._memory:
                self.misses += 1
                self._memory[key] = load()
            else:
                self.hits += 1
            return self._memory[key]
        data_path, meta_path = self._paths(key)
        meta = self._meta.get(key)
        if meta is not None:
            self._meta.move_to_end(key)
        elif meta_path.is_file():
            found = json.loads(meta_path.read_text())
            if found.get("key") == key:
                meta = self._keep_meta(key, found)
        if meta is not None:
            self.hits += 1
            frames = np.memmap(data_path, dtype=np.uint8, mode="r", shape=tuple(meta["shape"]))
            return frames, meta["annotations"]
        self.misses += 1
        frames, ann = load()
        frames = np.ascontiguousarray(frames, dtype=np.uint8)
        tmp = data_path.with_suffix(f".tmp{os.getpid()}")
        frames.tofile(tmp)
        os.replace(tmp, data_path)
        meta = dict(key=key, shape=list(frames.shape), annotations=ann)
        tmp_meta = meta_path.with_suffix(f".tmp{os.getpid()}")
        text = json.dumps(meta, default=_jsonable)
        tmp_meta.write_text(text)
        os.replace(tmp_meta, meta_path)
        return frames, self._keep_meta(key, json.loads(text))["annotations"]

    def _keep_meta(self, key: str, meta: dict) -> dict:
        self._meta[key] = meta
        if len(self._meta) > META_KEPT:
            self._meta.popitem(last=False)
        return meta
