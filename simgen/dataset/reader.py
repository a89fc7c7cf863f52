"""Read a generated dataset: clips as (frames uint8[T,H,W,3], annotations), without torch.

Example:
    >>> ds = DatasetReader("runs/demo")            # doctest: +SKIP
    >>> frames, ann = ds.read(0)                   # doctest: +SKIP
    >>> frames.shape, ann["label"]                 # doctest: +SKIP
    ((32, 112, 112, 3), 'wave1')
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np

from simgen.dataset.format import MEMBER_DIGESTS, check_member, decode_npz, member_digest
from simgen.errors import SimgenError
from simgen.untrusted import load_json, parse_json, plain_file_name, read_text
from simgen.video import decode_mp4


def read_manifest(root: Path, *, skip_bad: bool = False) -> list[dict]:
    """The manifest's rows. A line that is not a JSON object is an error, or with `skip_bad`
    (resuming a killed job, which may have torn the last line) is left out."""
    path = root / "manifest.jsonl"
    rows = []
    if not path.exists():
        return rows
    text = read_text(path, errors="replace" if skip_bad else "strict")  # a kill can tear a line mid-character
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            if skip_bad:
                continue
            raise SimgenError(f"line {n} is not JSON: {getattr(exc, 'msg', 'nested too deeply')}", file=str(path)) from None
        if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not isinstance(row.get("shard"), str):
            if skip_bad:
                continue
            raise SimgenError(f"line {n} is not a clip row (an object with 'key' and 'shard')", file=str(path))
        if not plain_file_name(row["shard"]) or not plain_file_name(row["key"]):
            # an absolute or '../' shard would be read from outside the dataset folder
            if skip_bad:
                continue
            raise SimgenError(f"line {n}: 'shard' and 'key' must be bare names inside shards/, got "
                              f"{row['shard']!r}, {row['key']!r}", file=str(path))
        rows.append(row)
    return rows


class DatasetReader:
    """Random access to the clips of a dataset folder written by `simgen generate`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        meta_path = self.root / "dataset.json"
        if not meta_path.exists():
            raise SimgenError("not a simgen dataset (no dataset.json)", file=str(self.root))
        self.meta = load_json(meta_path)
        if not isinstance(self.meta, dict):
            raise SimgenError("expected a JSON object", file=str(meta_path))
        self.classes: list[str] = list(self.meta.get("classes", []))
        self.rows = sorted(read_manifest(self.root), key=lambda r: r["key"])
        self._by_key = {row["key"]: i for i, row in enumerate(self.rows)}
        self._offsets: dict[str, dict[str, tuple[int, int]]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def keys(self) -> list[str]:
        return [r["key"] for r in self.rows]

    @property
    def labels(self) -> list[str]:
        return [r["label"] for r in self.rows]

    def _row(self, index_or_key: int | str) -> dict:
        if isinstance(index_or_key, str):
            if index_or_key not in self._by_key:
                raise KeyError(f"no clip '{index_or_key}' in {self.root}")
            return self.rows[self._by_key[index_or_key]]
        return self.rows[index_or_key]

    def _member_offsets(self, shard: str) -> dict[str, tuple[int, int]]:
        """name -> (data offset, size) for a shard, read once, so later reads seek directly."""
        if shard not in self._offsets:
            path = self.root / "shards" / shard
            try:
                with tarfile.open(path, "r") as tar:
                    members = tar.getmembers()
                for m in members:
                    check_member(m, path)
                self._offsets[shard] = {m.name: (m.offset_data, m.size) for m in members}
            except (OSError, tarfile.TarError) as exc:
                raise SimgenError(f"cannot read the shard: {exc}; run `simgen validate`", file=str(path)) from None
        return self._offsets[shard]

    def read_bytes(self, index_or_key: int | str, ext: str) -> bytes:
        row = self._row(index_or_key)
        name = f"{row['key']}.{ext}"
        offsets = self._member_offsets(row["shard"])
        if name not in offsets:
            raise SimgenError(f"member {name} missing", file=str(self.root / "shards" / row["shard"]))
        offset, size = offsets[name]
        with open(self.root / "shards" / row["shard"], "rb") as f:
            f.seek(offset)
            return f.read(size)

    def read_annotations(self, index_or_key: int | str) -> dict:
        row = self._row(index_or_key)
        ann = parse_json(self.read_bytes(index_or_key, "json"), file=f"{self.root / 'shards' / row['shard']}:{row['key']}.json")
        if not isinstance(ann, dict):
            raise SimgenError("annotations are not a JSON object", file=f"{self.root / 'shards' / row['shard']}:{row['key']}.json")
        return ann

    def read(self, index_or_key: int | str) -> tuple[np.ndarray, dict]:
        """(frames uint8[T, H, W, 3], annotations dict) of one clip.

        The video's bytes are checked against the digest its annotations record: H.264
        decodes most damage without an error, and damaged frames would pass silently."""
        data, ann = self.read_bytes(index_or_key, "mp4"), self.read_annotations(index_or_key)
        recorded = ann.get(MEMBER_DIGESTS)
        if isinstance(recorded, dict) and "mp4" in recorded and recorded["mp4"] != member_digest(data):
            row = self._row(index_or_key)
            raise SimgenError(f"member {row['key']}.mp4 is damaged (its sha256 differs from the one its annotations "
                              "record); run `simgen validate`", file=str(self.root / "shards" / row["shard"]))
        return decode_mp4(data), ann

    def read_dense(self, index_or_key: int | str) -> dict[str, np.ndarray]:
        """{'mask': uint8[T, H, W], 'depth': float16[T, H, W] in metres, 0 where nothing was hit} of one clip."""
        return decode_npz(self.read_bytes(index_or_key, "npz"))
