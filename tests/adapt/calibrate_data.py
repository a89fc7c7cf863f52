"""Hand-made synthetic and real clip folders for the calibration tests: a dark box "person" with a
waving arm on a gradient background. The synthetic manifest samples the box width (``body.girth``)
and an irrelevant factor; the "real" clips all have wide boxes, so the gap has a known cause."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from simgen.dataset.format import encode_json, encode_npz
from simgen.dataset.writer import write_shard
from simgen.video import encode_mp4

SIZE, FRAMES, FPS = 32, 12, 25.0


def draw_clip(rng: np.random.Generator, *, girth: float, label: str, background: float) -> np.ndarray:
    """uint8[FRAMES, SIZE, SIZE, 3]: box of width ``girth`` pixels, arm waving fast (``jack``) or slowly."""
    rows = np.linspace(-20, 20, SIZE)[:, None, None]
    frames = np.zeros((FRAMES, SIZE, SIZE, 3), np.float32) + background + rows
    top, bottom = 8, 29
    left = int(round(SIZE / 2 - girth / 2))
    right = left + int(round(girth))
    speed = 1.2 if label == "jack" else 0.4
    for t in range(FRAMES):
        frames[t, top:bottom, left:right] = (40, 40, 70)
        arm_y = int(round(12 + 5 * np.sin(speed * t)))
        frames[t, arm_y:arm_y + 2, right:min(SIZE, right + 6)] = (40, 40, 70)
    frames += rng.normal(0, 2.0, frames.shape)
    return np.clip(frames, 0, 255).astype(np.uint8)


def write_synthetic(root: Path, *, clips: int = 48, seed: int = 0, labels=("wave", "jack")) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    (root / "shards").mkdir()
    members, rows = [], []
    for i in range(clips):
        label = labels[i % len(labels)]
        girth = float(rng.uniform(4, 13))
        factors = {"body": {"girth": girth}, "scene": {"irrelevant": float(rng.uniform(0, 1)), "background": "flat",
                                                        "sky_rgb": [0.5, 0.5, 0.5]},
                   "camera": {"shake_seed": int(rng.integers(1e9))}, "occlusion": {"static": []}}
        frames = draw_clip(rng, girth=girth, label=label, background=150.0)
        key = f"clip{i:08d}"
        mp4 = encode_mp4(frames, FPS)
        npz = encode_npz({"mask": np.zeros(frames.shape[:3], np.uint8), "depth": np.zeros(frames.shape[:3], np.float16)})
        members.append((key, {"mp4": mp4, "json": encode_json({"label": label, "factors": factors}), "npz": npz}))
        rows.append({"key": key, "shard": "shard-000000.tar", "label": label, "frames": FRAMES, "factors": factors})
    write_shard(root / "shards" / "shard-000000.tar", members)
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "dataset.json").write_text(json.dumps({"format": "simgen-webdataset", "classes": list(labels), "complete": True,
                                                   "spec": {"size": [SIZE, SIZE], "fps": FPS, "classes": list(labels)}}))
    return root


def write_real(root: Path, *, clips: int = 8, seed: int = 1, labels=("wave", "jack"), girth=(11.0, 13.0)) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    rows = []
    for i in range(clips):
        label = labels[i % len(labels)]
        (root / label).mkdir(exist_ok=True)
        path = f"{label}/s{i}_{label}.mp4"
        frames = draw_clip(rng, girth=float(rng.uniform(*girth)), label=label, background=150.0)
        (root / path).write_bytes(encode_mp4(frames, FPS))
        rows.append((path, label, f"s{i}"))
    with open(root / "labels.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("path", "label", "subject"), *rows])
    return root
