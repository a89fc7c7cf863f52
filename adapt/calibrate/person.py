"""Where the person is and how big, from pixels alone (real clips have no masks).

Two cues, joined: a pixel belongs to the person when its colour is far from the background
colour of its own row (estimated from the frame's left and right border columns, which is where
person-centred footage has background), or when it differs from the clip's temporal median (it
moves). The motion cue is used only on frames where it is sparse: a panning camera moves
everything. The largest connected region is the person. The same estimator runs on synthetic
clips, so both sets are measured the same way (and the synthetic masks check it:
``tests/adapt/test_calibrate_lowlevel.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

#: colour distance (0-255 RGB units) under which a pixel is background, whatever the border's spread
MIN_COLOUR_THRESHOLD = 28.0
#: the border's own spread (median absolute deviation) times this is also background
SPREAD_MULTIPLIER = 4.0
#: frames whose motion cue covers more than this share are ignored for that cue (camera motion)
MAX_MOTION_SHARE = 0.25
#: pieces of foreground closer than about this many pixels are one person
GAP_BRIDGE = 5


def person_masks(frames: np.ndarray) -> np.ndarray:
    """bool[T, H, W]: the estimated person region of each frame (largest connected foreground region)."""
    f = np.asarray(frames, dtype=np.float32)
    t, h, w = f.shape[:3]
    border = max(2, w // 16)
    edges = np.concatenate([f[:, :, :border], f[:, :, -border:]], axis=2)  # [T, H, 2b, 3]
    row_background = np.median(edges, axis=2, keepdims=True)  # per row: handles vertical gradients
    colour_distance = np.linalg.norm(f - row_background, axis=-1)
    edge_distance = np.linalg.norm(edges - row_background, axis=-1).reshape(t, -1)
    spread = np.median(edge_distance, axis=1)  # a textured background raises its own threshold
    threshold = np.maximum(MIN_COLOUR_THRESHOLD, SPREAD_MULTIPLIER * spread)[:, None, None]
    foreground = colour_distance > threshold
    if t >= 3:
        moving = np.linalg.norm(f - np.median(f, axis=0, keepdims=True), axis=-1) > MIN_COLOUR_THRESHOLD
        sparse = moving.mean(axis=(1, 2)) < MAX_MOTION_SHARE
        foreground |= moving & sparse[:, None, None]
    speck = np.ones((2, 2), np.uint8)
    bridge = np.ones((GAP_BRIDGE, GAP_BRIDGE), np.uint8)
    masks = np.zeros((t, h, w), dtype=bool)
    for i in range(t):
        # an opening that removes single-pixel specks but keeps 2-pixel limbs; the dilation's anchor
        # mirrors the erosion's, else an even kernel shifts the mask by a pixel
        cleaned = cv2.dilate(cv2.erode(foreground[i].astype(np.uint8), speck, anchor=(0, 0)), speck, anchor=(1, 1))
        # Limbs, clothes and skin break a small person into pieces; grouping by a dilated copy
        # keeps the pieces that lie close together, then the undilated pixels are kept.
        grouped = cv2.dilate(cleaned, bridge)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
        if count > 1:
            biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            masks[i] = (labels == biggest) & (cleaned > 0)
    return masks


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end exclusive, of a bool[H, W] mask; None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


#: a region smaller than this share of the frame is taken as "no person found"
MIN_PERSON_SHARE = 0.01


def person_statistics(masks: np.ndarray) -> dict[str, float | None]:
    """Per-clip medians over frames of the person box, as fractions of the frame.

    ``person_height`` / ``person_width``: box size over frame height / width; ``person_centre_x``,
    ``person_bottom``: box centre and lowest row (0 = left/top, 1 = right/bottom);
    ``person_bulk``: region area over box height squared (a wider, bulkier silhouette of the same
    height scores higher); ``person_found``: share of frames with a region. ``None`` when no frame has one.
    """
    t, h, w = masks.shape
    boxes, bulks = [], []
    for m in masks:
        area = m.sum()
        box = mask_box(m)
        if box is None or area < MIN_PERSON_SHARE * h * w:
            continue
        x0, y0, x1, y1 = box
        boxes.append((x0 / w, y0 / h, x1 / w, y1 / h))
        bulks.append(area / float((y1 - y0) ** 2))
    if not boxes:
        return dict(person_height=None, person_width=None, person_centre_x=None, person_bottom=None,
                    person_bulk=None, person_found=0.0)
    b = np.asarray(boxes)
    return dict(
        person_height=float(np.median(b[:, 3] - b[:, 1])),
        person_width=float(np.median(b[:, 2] - b[:, 0])),
        person_centre_x=float(np.median((b[:, 0] + b[:, 2]) / 2)),
        person_bottom=float(np.median(b[:, 3])),
        person_bulk=float(np.median(bulks)),
        person_found=len(boxes) / float(t),
    )
