"""Fixtures for train tests: single-threaded torch, tiny synthetic datasets and real folders."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED = Path(__file__).resolve().parents[2].parent / "shared/data/weizmann4_dev"

CLASSES = ["left", "right", "still"]


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # the CI box has 2 cores shared with other jobs
    torch.set_num_threads(1)


@pytest.fixture
def weizmann_dir() -> Path:
    if not (SHARED / "labels.csv").is_file():
        pytest.skip(f"real clips not present at {SHARED} (fresh checkout without ../shared/data)")
    return SHARED


def moving_square(label: str, num_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A bright square on a noisy background moving left/right or standing still."""
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    bg = rng.integers(20, 60, size=(size, size, 3))
    y = int(rng.integers(size // 4, size // 2))
    x0 = int(rng.integers(size // 4, size // 2))
    side = size // 4
    velocity = {"left": -1.5, "right": 1.5, "still": 0.0}[label]
    colour = rng.integers(150, 255, size=3)
    for t in range(num_frames):
        frame = bg.copy()
        x = int(x0 + velocity * t) % (size - side)
        frame[y : y + side, x : x + side] = colour
        frames[t] = frame
    return frames


MOTIONS = ["still", "horizontal", "vertical"]


def motion_clip(label: str, num_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A bright square still, or moving 2 px/frame along x or y (random sign), on a noisy background.

    Unlike left/right these classes survive the training augmentation (horizontal flips,
    small rolls), so a working fit loop learns them in a few CPU seconds.
    """
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    bg = rng.integers(20, 60, size=(size, size, 3))
    side = size // 4
    y0, x0 = (int(v) for v in rng.integers(0, size - side, size=2))
    sign = int(rng.choice([-1, 1]))
    vy, vx = {"still": (0, 0), "horizontal": (0, 2 * sign), "vertical": (2 * sign, 0)}[label]
    colour = rng.integers(150, 255, size=3)
    for t in range(num_frames):
        frame = bg.copy()
        y, x = (y0 + vy * t) % (size - side), (x0 + vx * t) % (size - side)
        frame[y : y + side, x : x + side] = colour
        frames[t] = frame
    return frames


def encode(frames: np.ndarray, fps: float = 25.0) -> bytes:
    from simgen.video import encode_mp4

    return encode_mp4(frames, fps)


def write_synthetic(root: Path, clips: list[tuple[str, np.ndarray, list[str]]], *, fps: float = 25.0,
                    classes: list[str] = CLASSES, clips_per_shard: int = 4) -> Path:
    """Write a dataset in the simgen shard format (dataset.json, shards/*.tar, manifest.jsonl)."""
    from simgen.dataset.format import add_member, clip_checksum, encode_json, encode_npz

    (root / "shards").mkdir(parents=True, exist_ok=True)
    rows = []
    for s in range(0, len(clips), clips_per_shard):
        shard = f"shard-{s // clips_per_shard:06d}.tar"
        with tarfile.open(root / "shards" / shard, "w", format=tarfile.USTAR_FORMAT) as tar:
            for i, (label, frames, frame_labels) in enumerate(clips[s : s + clips_per_shard], start=s):
                key = f"clip{i:08d}"
                t, h, w, _ = frames.shape
                segs, start = [], 0
                for k in range(1, t + 1):
                    if k == t or frame_labels[k] != frame_labels[start]:
                        segs.append([start, k, frame_labels[start]])
                        start = k
                ann = dict(label=label, frame_labels=frame_labels, segments=segs,
                           keypoints_2d=[[[0.0, 0.0, 1.0]]] * t, joint_names=["root"], bbox=[[0, 0, w, h]] * t,
                           camera=dict(K=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], extrinsics=np.eye(4).tolist()),
                           factors={}, seed=i, fps=fps)
                members = dict(mp4=encode(frames, fps), json=encode_json(ann),
                               npz=encode_npz(dict(mask=np.zeros((t, h, w), np.uint8),
                                                   depth=np.zeros((t, h, w), np.float32))))
                for ext in ("mp4", "json", "npz"):
                    add_member(tar, f"{key}.{ext}", members[ext])
                rows.append(dict(key=key, shard=shard, label=label, seed=i, frames=t, factors={},
                                 checksum=clip_checksum(members)))
    (root / "dataset.json").write_text(json.dumps(dict(classes=classes, counts={"clips": len(rows)},
                                                       tool_version="test")))
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """12 clips (4 per class), 24 frames of 32x32, clip-level labels."""
    rng = np.random.default_rng(0)
    clips = []
    for i in range(12):
        label = CLASSES[i % 3]
        clips.append((label, moving_square(label, 24, 32, rng), [label] * 24))
    return write_synthetic(tmp_path_factory.mktemp("synth"), clips)


@pytest.fixture(scope="session")
def learnable_dir(tmp_path_factory) -> Path:
    """48 clips (16 per class of :data:`MOTIONS`), 16 frames of 32x32: separable by motion."""
    rng = np.random.default_rng(0)
    clips = []
    for i in range(48):
        label = MOTIONS[i % 3]
        clips.append((label, motion_clip(label, 16, 32, rng), [label] * 16))
    return write_synthetic(tmp_path_factory.mktemp("learnable"), clips, classes=MOTIONS, clips_per_shard=16)


@pytest.fixture(scope="session")
def segment_dir(tmp_path_factory) -> Path:
    """Clips of 32 frames whose first half is one class and second half another."""
    rng = np.random.default_rng(1)
    clips = []
    for i in range(6):
        a, b = CLASSES[i % 3], CLASSES[(i + 1) % 3]
        frames = np.concatenate([moving_square(a, 16, 32, rng), moving_square(b, 16, 32, rng)])
        clips.append((a, frames, [a] * 16 + [b] * 16))
    return write_synthetic(tmp_path_factory.mktemp("segs"), clips)


def write_video_file(path: Path, frames: np.ndarray, fps: float = 25.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(frames, fps))
    return path


@pytest.fixture
def real_dir(tmp_path) -> Path:
    """A real-style folder: labels.csv with 6 mp4 clips (2 per class) at 30 fps, 48x40 frames."""
    rng = np.random.default_rng(2)
    lines = ["path,label,subject"]
    for i in range(6):
        label = CLASSES[i % 3]
        frames = moving_square(label, 30, 48, rng)[:, :40]  # non-square, non-64 size
        write_video_file(tmp_path / "clips" / f"c{i}.mp4", np.ascontiguousarray(frames), fps=30.0)
        lines.append(f"clips/c{i}.mp4,{label},s{i // 3}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.fixture(scope="session")
def helpers():
    """Data-making helpers (pytest runs in importlib mode, so tests cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(CLASSES=CLASSES, moving_square=moving_square, write_video_file=write_video_file,
                           write_synthetic=write_synthetic)


@pytest.fixture(scope="session")
def train_cli():
    """``run(*argv)``: the train/evaluate commands called directly (exceptions propagate, paths may
    be ``Path``s), and ``FAST``: the options that keep a CLI training run to seconds."""
    import argparse
    from types import SimpleNamespace

    from simgen.pipelines import train_commands

    def run(*argv) -> int:
        parser = argparse.ArgumentParser(prog="simgen")
        train_commands.register(parser.add_subparsers(dest="command"))
        args = parser.parse_args([str(a) for a in argv])
        return args.func(args)

    fast = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress"]
    return SimpleNamespace(run=run, FAST=fast)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory, synthetic_dir, train_cli) -> Path:
    """``model.pt`` of a one-epoch tiny3d run on :func:`synthetic_dir` (all 12 clips), for the
    commands that read a trained model (monitor, update, suggest-labels)."""
    out = tmp_path_factory.mktemp("one_epoch") / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", "--val-fraction", "0",
                         *train_cli.FAST) == 0
    return out / "model.pt"
