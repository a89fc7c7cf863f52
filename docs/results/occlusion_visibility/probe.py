"""How much of the person the benchmark's occlusion bar leaves visible, per real clip and level (no model).

The person's pixels in each frame: those differing from the clip's median frame by more than THRESHOLD in any
channel, cleaned by a 3x3 opening. A body part that holds still in most frames is part of the median, so these
are the parts that move: the waving arms of wave1/wave2, most of the body in jack and bend (what a model of frame
differences sees); `person_width` is the 90th percentile of their width. A frame's hidden share: the share of
those pixels under the bar (adapt/perturb.py draws it: the columns of `occluder_columns`, either direction).
Per level it reports the share of frames in which at most 5% of these pixels is hidden, the longest run of such
frames (the shorter of the two sweep directions), and the hidden share on average, over both directions.

    .venv/bin/python docs/results/occlusion_visibility/probe.py ../shared/data/weizmann4_dev \
        > docs/results/occlusion_visibility/summary.json
"""

import json
import sys

import cv2
import numpy as np

from simgen.adapt.perturb import PERTURBATIONS, occluder_columns
from simgen.train.data.real import RealFolderReader

THRESHOLD = 40  # grey levels: above the codec noise of a static background, below the person's contrast
VISIBLE = 0.05  # a frame counts as showing the whole person when at most this share of it is hidden


def person_masks(frames: np.ndarray) -> np.ndarray:
    background = np.median(frames, axis=0)
    mask = (np.abs(frames.astype(np.int16) - background.astype(np.int16)).max(-1) > THRESHOLD).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    return np.stack([cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel) for m in mask]).astype(bool)


def longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def main(root: str) -> dict:
    reader = RealFolderReader(root, size=64)
    rows = []
    for i in range(len(reader)):
        frames, ann = reader.read(i)
        masks = person_masks(np.asarray(frames))
        t, _, w = masks.shape
        area = masks.sum((1, 2)).clip(min=1)
        per_level = {}
        for level in PERTURBATIONS["occlusion"]:
            cols = occluder_columns(t, w, level, np.random.default_rng(1))  # one direction ...
            bar = max(1, int(round(level * w)))
            out = []
            for direction in (cols, cols[::-1]):  # ... and the other
                hidden = np.array([masks[k, :, x:x + bar].sum() for k, x in enumerate(direction)]) / area
                visible = hidden <= VISIBLE
                out.append((visible.mean(), longest_run(visible), hidden.mean()))
            per_level[f"{level:g}"] = dict(frames_whole_person=round(float(np.mean([o[0] for o in out])), 3),
                                           longest_whole_run=int(min(o[1] for o in out)),
                                           hidden_share_mean=round(float(np.mean([o[2] for o in out])), 3))
        rows.append(dict(clip=ann["path"], label=ann.get("label"), frames=t,
                         person_width=int(np.percentile(masks.any(1).sum(1), 90)), occlusion=per_level))
    summary = {}
    for level in PERTURBATIONS["occlusion"]:
        key = f"{level:g}"
        for label in sorted({r["label"] for r in rows}):
            sel = [r["occlusion"][key] for r in rows if r["label"] == label]
            summary.setdefault(key, {})[label] = dict(
                frames_whole_person=round(float(np.mean([s["frames_whole_person"] for s in sel])), 3),
                clips_with_a_whole_frame=int(sum(s["frames_whole_person"] > 0 for s in sel)), clips=len(sel),
                hidden_share_mean=round(float(np.mean([s["hidden_share_mean"] for s in sel])), 3))
    return dict(threshold=THRESHOLD, visible_at_most_hidden=VISIBLE, summary=summary, clips=rows)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=1))
