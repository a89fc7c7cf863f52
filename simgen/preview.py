"""A labelled contact sheet: a row per clip, frames across time, captions in bands beside
the frames (never over them), keypoints and boxes optional.

Small frames are enlarged (nearest neighbour, whole factors) to at least MIN_SIDE pixels,
so that a 64 px clip's captions and overlays do not swamp the person.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from simgen.captions import text_band, upscale
from simgen.dataset.reader import DatasetReader
from simgen.errors import SimgenError

# Limb pairs drawn as a skeleton (indices into KEYPOINT_NAMES).
BONES = [(0, 1), (1, 2), (2, 15), (0, 3), (3, 4), (4, 5), (1, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (1, 12), (12, 13), (13, 14)]
MIN_SIDE = 128
# Overlays are blended, not painted: the person stays visible under the skeleton.
OVERLAY_OPACITY = 0.65


def _pick_rows(ds: DatasetReader, count: int) -> list[int]:
    """Up to `count` clips, taking classes in turn so each class shows."""
    by_class: dict[str, list[int]] = {}
    for i, row in enumerate(ds.rows):
        by_class.setdefault(row["label"], []).append(i)
    picked: list[int] = []
    while len(picked) < min(count, len(ds)):
        for indices in by_class.values():
            if indices and len(picked) < count:
                picked.append(indices.pop(0))
    return picked


def draw_frame(frame: np.ndarray, keypoints: np.ndarray | None, box, *, min_side: int = MIN_SIDE) -> np.ndarray:
    """The frame enlarged to >= `min_side`, with skeleton, keypoints (green visible, red
    hidden) and box blended on when `keypoints` is given."""
    img = np.ascontiguousarray(upscale(frame, min_side))
    if keypoints is None:
        return img
    scale = img.shape[0] / frame.shape[0]
    drawn = img.copy()
    kp = np.asarray(keypoints, dtype=np.float64).copy()
    kp[:, :2] *= scale
    for a, b in BONES:
        if b < len(kp) and kp[a, 2] > 0 and kp[b, 2] > 0:
            cv2.line(drawn, tuple(int(v) for v in kp[a, :2]), tuple(int(v) for v in kp[b, :2]), (255, 255, 255), 1, cv2.LINE_AA)
    for x, y, vis in kp:
        cv2.circle(drawn, (int(x), int(y)), 2, (0, 220, 0) if vis > 0 else (230, 0, 0), -1, cv2.LINE_AA)
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    if x1 > x0:
        cv2.rectangle(drawn, (x0, y0), (x1 - 1, y1 - 1), (255, 200, 0), 1)
    return cv2.addWeighted(drawn, OVERLAY_OPACITY, img, 1.0 - OVERLAY_OPACITY, 0.0)


def frame_caption(ann: dict, t: int) -> list[str]:
    """Two short lines under frame t: its index and label, and the actor's visible share."""
    lines = [f"t={t} {ann['frame_labels'][t]}"]
    if "visible_fraction" in ann:
        lines.append(f"visible {ann['visible_fraction'][t]:.2f}")
    return lines


def clip_header(key: str, ann: dict) -> list[str]:
    cam = ann["factors"]["camera"]
    occ = ann["factors"].get("occlusion", {})
    occluders = "+".join(o["kind"] for o in occ.get("static", []) + occ.get("moving", [])) or "none"
    return [f"{key}  {ann['label']}", f"cam {cam['trajectory']} az {cam['azimuth_deg']:.0f}  occ {occluders}"]


def contact_sheet(root: str | Path, out: str | Path, *, clips: int = 12, columns: int = 4, overlays: bool = True) -> Path:
    ds = DatasetReader(root)
    if len(ds) == 0:
        raise SimgenError("the dataset has no clips yet", file=str(root))
    rows = []
    for index in _pick_rows(ds, clips):
        frames, ann = ds.read(index)
        times = np.linspace(0, len(frames) - 1, columns).round().astype(int)
        cells = []
        for i in times:
            keypoints = np.asarray(ann["keypoints_2d"][i]) if overlays else None
            cell = draw_frame(frames[i], keypoints, ann["bbox"][i])
            caption = text_band(frame_caption(ann, int(i)), cell.shape[1])
            gap = np.zeros((cell.shape[0] + caption.shape[0], 2, 3), np.uint8)
            cells += [np.concatenate([cell, caption], axis=0), gap]
        strip = np.concatenate(cells[:-1], axis=1)
        header = text_band(clip_header(ds.rows[index]["key"], ann), strip.shape[1], scale=0.45)
        rows.append(np.concatenate([header, strip, np.zeros((4, strip.shape[1], 3), np.uint8)], axis=0))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    sheet = np.concatenate(rows, axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SimgenError("cannot write the image (is the extension .png or .jpg?)", file=str(out))
    return out
