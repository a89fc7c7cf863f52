"""A labelled contact sheet: a row per clip, frames across time, keypoints and boxes drawn on."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from simgen.dataset.reader import DatasetReader
from simgen.errors import SimgenError

# Limb pairs drawn as a skeleton (indices into KEYPOINT_NAMES).
BONES = [(0, 1), (1, 2), (2, 15), (0, 3), (3, 4), (4, 5), (1, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (1, 12), (12, 13), (13, 14)]


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


def draw_frame(frame: np.ndarray, keypoints: np.ndarray, box, scale: int) -> np.ndarray:
    img = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    img = np.ascontiguousarray(img)
    kp = keypoints.copy()
    kp[:, :2] *= scale
    for a, b in BONES:
        if b < len(kp) and kp[a, 2] > 0 and kp[b, 2] > 0:
            cv2.line(img, tuple(int(v) for v in kp[a, :2]), tuple(int(v) for v in kp[b, :2]), (255, 255, 255), 1, cv2.LINE_AA)
    for x, y, vis in kp:
        cv2.circle(img, (int(x), int(y)), 2, (0, 220, 0) if vis > 0 else (230, 0, 0), -1, cv2.LINE_AA)
    x0, y0, x1, y1 = (int(v * scale) for v in box)
    if x1 > x0:
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), (255, 200, 0), 1)
    return img


def contact_sheet(root: str | Path, out: str | Path, *, clips: int = 12, columns: int = 4) -> Path:
    ds = DatasetReader(root)
    if len(ds) == 0:
        raise SimgenError("the dataset has no clips yet", file=str(root))
    rows = []
    for index in _pick_rows(ds, clips):
        frames, ann = ds.read(index)
        t = len(frames)
        scale = max(1, int(np.ceil(128 / frames.shape[1])))
        times = np.linspace(0, t - 1, columns).round().astype(int)
        cells = []
        for i in times:
            cell = draw_frame(frames[i], np.asarray(ann["keypoints_2d"][i]), ann["bbox"][i], scale)
            caption = f"{i}: {ann['frame_labels'][i]}"
            if "visible_fraction" in ann:
                caption += f" vis {ann['visible_fraction'][i]:.2f}"
            cv2.putText(cell, caption, (3, cell.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 2, cv2.LINE_AA)
            cv2.putText(cell, caption, (3, cell.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
            cells.append(cell)
        strip = np.concatenate(cells, axis=1)
        header = np.full((22, strip.shape[1], 3), 30, np.uint8)
        cam = ann["factors"]["camera"]
        occ = ann["factors"].get("occlusion", {})
        occluders = "+".join(o["kind"] for o in occ.get("static", []) + occ.get("moving", [])) or "none"
        text = f"{ds.rows[index]['key']}  {ann['label']}  cam={cam['trajectory']} az={cam['azimuth_deg']:.0f}  occ={occluders}"
        cv2.putText(header, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(np.concatenate([header, strip], axis=0))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    sheet = np.concatenate(rows, axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SimgenError("cannot write the image (is the extension .png or .jpg?)", file=str(out))
    return out
