"""Load the two sets a calibration compares: a synthetic dataset folder and a folder of real clips.

Every clip becomes a :class:`CalibrationClip` with frames at one common square size, so that
pixel statistics and features compare like with like. Bad input raises ``SimgenError`` (one line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from simgen.errors import SimgenError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")
# Factor leaves that identify a clip rather than describe it.
_SKIP_LEAVES = ("seed", "label")


@dataclass
class CalibrationClip:
    """One clip of either domain. ``factors`` (synthetic only) is flat: ``{'camera.fov_deg': 41.2, ...}``."""

    key: str
    domain: str  # "synthetic" | "real"
    label: str | None
    frames: np.ndarray  # uint8[T, H, W, 3] at the common size
    fps: float
    bits_per_pixel: float | None
    factors: dict[str, Any] = field(default_factory=dict)


def flatten_factors(factors: dict) -> dict[str, Any]:
    """Every sampled factor of a manifest row as ``group.name[.sub]: scalar``, generically.

    Numbers, strings and booleans are kept; a list of numbers (an RGB colour, say) becomes its
    mean (``clothing.shirt.mean``); any other list becomes its length (``occlusion.static.count``),
    so factors a newer generator adds appear without code changes. Seeds and labels are left out.
    """
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        leaf = prefix.rsplit(".", 1)[-1]
        if leaf in _SKIP_LEAVES or leaf.endswith("_seed"):
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, (list, tuple)):
            if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                flat[f"{prefix}.mean"] = float(np.mean(value))
            else:
                flat[f"{prefix}.count"] = len(value)
        elif isinstance(value, (bool, str)) or (isinstance(value, (int, float)) and np.isfinite(value)):
            flat[prefix] = value

    walk("", factors if isinstance(factors, dict) else {})
    return flat


def _resize_square(frames: np.ndarray, size: int) -> np.ndarray:
    from simgen.train.data.video_io import fit_frame

    if frames.shape[1:3] == (size, size):
        return frames
    return np.stack([fit_frame(f, size) for f in frames])


def _bits_per_pixel(num_bytes: int, frames: np.ndarray) -> float:
    t, h, w = frames.shape[:3]
    return float(num_bytes) * 8.0 / float(t * h * w)


def open_synthetic(root: Path, option: str = "--synthetic"):
    """The dataset reader of a synthetic folder, checked: a simgen dataset with at least one clip."""
    from simgen.dataset.reader import DatasetReader

    if not (root / "dataset.json").is_file() or not (root / "manifest.jsonl").is_file():
        raise SimgenError(f"{option} {root}: not a simgen dataset (expected dataset.json and manifest.jsonl "
                          "written by `simgen generate`)")
    reader = DatasetReader(root)
    if not reader.rows:
        raise SimgenError(f"{option} {root}: the dataset has no clips (manifest.jsonl is empty)")
    return reader


def pick_evenly(count: int, limit: int | None) -> list[int]:
    """At most ``limit`` indices spread evenly over ``range(count)`` (deterministic)."""
    if limit is None or count <= limit:
        return list(range(count))
    return sorted(set(np.round(np.linspace(0, count - 1, limit)).astype(int).tolist()))


def iter_synthetic(reader, indices: list[int], size: int) -> Iterator[CalibrationClip]:
    fps_default = float(reader.meta.get("spec", {}).get("fps", 25.0))
    for i in indices:
        row = reader.rows[i]
        try:
            data = reader.read_bytes(i, "mp4")
            from simgen.video import decode_mp4

            frames = decode_mp4(data)
        except SimgenError:
            raise
        except Exception as exc:  # a torn shard or a broken video: name it
            raise SimgenError(f"--synthetic {reader.root}: clip {row['key']} cannot be decoded ({type(exc).__name__}: {exc}); "
                              "run `simgen validate`") from None
        yield CalibrationClip(
            key=row["key"], domain="synthetic", label=row.get("label"),
            frames=_resize_square(frames, size), fps=float(row.get("fps", fps_default)),
            bits_per_pixel=_bits_per_pixel(len(data), frames), factors=flatten_factors(row.get("factors", {})),
        )


def list_real(root: Path, option: str = "--real") -> list[dict]:
    """Rows ``{path, label, subject}`` of a real folder: ``labels.csv``, one sub-folder per class, or loose videos
    (unlabelled: a gap can be measured without labels)."""
    from simgen.train.data.real import RealFolderReader
    from simgen.train.errors import TrainDataError

    if not root.is_dir():
        raise SimgenError(f"{option} {root}: not found" if not root.exists() else f"{option} {root}: is a file; expected a folder")
    loose = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if loose and not (root / "labels.csv").is_file():
        return [dict(path=p.name, label=None, subject="") for p in loose]
    try:
        reader = RealFolderReader(root)
    except TrainDataError as exc:
        raise SimgenError(f"{option} {exc}") from None
    return [dict(path=r["path"], label=r["label"] or None, subject=r.get("subject", "")) for r in reader.rows]


def iter_real(root: Path, rows: list[dict], size: int, option: str = "--real") -> Iterator[CalibrationClip]:
    from simgen.train.data.video_io import decode_video
    from simgen.train.errors import VideoDecodeError

    for row in rows:
        path = root / row["path"]
        try:
            frames, fps = decode_video(path)
        except VideoDecodeError as exc:
            raise SimgenError(f"{option}: {exc}") from None
        yield CalibrationClip(
            key=row["path"], domain="real", label=row["label"], frames=_resize_square(frames, size), fps=fps,
            bits_per_pixel=_bits_per_pixel(path.stat().st_size, frames),
        )


def check_real_decodable(root: Path, rows: list[dict], option: str = "--real") -> None:
    """Fail fast, before any long work, when real clips cannot be opened: one line naming how many and the first."""
    import av

    bad = []
    for row in rows:
        path = root / row["path"]
        try:
            if not path.is_file() or path.stat().st_size == 0:
                raise ValueError("missing or empty")
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise ValueError("no video stream")
                next(container.decode(container.streams.video[0]))
        except Exception as exc:  # PyAV raises many error types
            bad.append((row["path"], f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__))
    if bad:
        first, why = bad[0]
        raise SimgenError(f"{option} {root}: {len(bad)} of {len(rows)} real clip(s) cannot be decoded, "
                          f"e.g. {first} ({why}); remove or re-encode them")
