"""One clip of a dataset as a file to watch (`simgen export DIR KEY --out clip.mp4|gif`)."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from simgen.captions import text_band
from simgen.clip_file import check_clip_path, write_clip
from simgen.dataset.reader import DatasetReader
from simgen.errors import SimgenError
from simgen.preview import MIN_SIDE, clip_header, draw_frame, frame_caption


def find_key(ds: DatasetReader, key: str) -> str:
    """`key` if the dataset has it, else an error that names the closest keys."""
    if key in ds.keys:
        return key
    close = difflib.get_close_matches(key, ds.keys, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; keys run from {ds.keys[0]} to {ds.keys[-1]}" if len(ds) else "; the dataset has no clips"
    raise SimgenError(f"no clip '{key}'{hint}", file=str(ds.root), field="KEY")


def export_clip(root: str | Path, key: str, out: str | Path, *, overlays: bool = False, min_side: int = MIN_SIDE) -> Path:
    """Write clip `key` to `out` (.gif or .mp4) at the dataset's fps, frames enlarged to
    >= `min_side` (0: as stored); with `overlays`, skeleton, box and per-frame captions."""
    out = check_clip_path(out)
    ds = DatasetReader(root)
    key = find_key(ds, key)
    frames, ann = ds.read(key)
    shown = []
    for t, frame in enumerate(frames):
        keypoints = np.asarray(ann["keypoints_2d"][t]) if overlays else None
        img = draw_frame(frame, keypoints, ann["bbox"][t], min_side=min_side or 1)
        if overlays:
            img = np.concatenate([text_band(clip_header(key, ann)[:1] + frame_caption(ann, t), img.shape[1]), img], axis=0)
        shown.append(img)
    return write_clip(np.stack(shown), out, float(ann.get("fps", 25)))
