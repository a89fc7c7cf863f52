"""Fixtures for the fault-injection tests: a tiny generated dataset, a real-style folder, a
checkpoint, and helpers that rewrite a shard so that its checksums still match."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

# Physics off and 4 frames of 32x32: a clip in well under a second.
TINY = {
    "clips": 2,
    "frames": 4,
    "size": [32, 32],
    "output.shard_size": 1,
    "seed": 3,
    "physics.enabled": False,
    "occlusion.probability": 0.0,
    "sequence.probability": 0.0,
    "scene.distractor_count": 0,
    "camera_noise.motion_blur_probability": 0.0,
    "camera_noise.jpeg_probability": 0.0,
}
REAL_CLASSES = ["left", "right"]


@pytest.fixture(scope="session")
def tiny_spec():
    from simgen.spec import load_spec

    return load_spec(preset="demo", overrides=dict(TINY))


@pytest.fixture(scope="session")
def generated(tmp_path_factory, tiny_spec) -> Path:
    """A valid 2-clip dataset (2 shards); copy it (`dataset_copy`) before damaging it."""
    from simgen.jobs.runner import generate_dataset

    out = tmp_path_factory.mktemp("generated") / "ds"
    generate_dataset(tiny_spec, out, workers=1, progress=False)
    return out


@pytest.fixture
def dataset_copy(generated, tmp_path) -> Path:
    dst = tmp_path / "ds"
    shutil.copytree(generated, dst)
    return dst


def rewrite_clip(root: Path, key: str, *, annotations=None, members=None) -> None:
    """Replace a clip's annotations (a function of the dict) or its raw tar members, then
    recompute the manifest checksum, so that only the change itself is wrong."""
    from simgen.dataset.format import MEMBER_DIGESTS, add_member, clip_checksum, encode_json, member_digest

    manifest = root / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    row = next(r for r in rows if r["key"] == key)
    path = root / "shards" / row["shard"]
    with tarfile.open(path) as tar:
        clip = {m.name.partition(".")[2]: tar.extractfile(m).read() for m in tar if m.name.startswith(key + ".")}
    if annotations is not None:
        ann = annotations(json.loads(clip["json"]))
        ann[MEMBER_DIGESTS] = {ext: member_digest(clip[ext]) for ext in ("mp4", "npz")}
        clip["json"] = json.dumps(ann).encode()  # json.dumps writes NaN as NaN, which json.loads reads back
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for ext in ("mp4", "json", "npz"):
            add_member(tar, f"{key}.{ext}", clip[ext])
        for info, data in members or []:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    row["checksum"] = clip_checksum(clip)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained tiny3d checkpoint for REAL_CLASSES (16 frames of 32x32): enough for `evaluate` to run."""
    import torch

    from simgen.train.checkpoint import model_meta
    from simgen.train.config import TrainConfig
    from simgen.train.models import create_action_model

    torch.manual_seed(0)
    cfg = TrainConfig(synthetic="unused", out="unused", model="tiny3d", size=32, num_frames=8, stride=1)
    model = create_action_model(backbone="tiny3d", num_classes=len(REAL_CLASSES), input_mode=cfg.input,
                                frame_head=cfg.frame_head)
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    torch.save(dict(meta=model_meta(cfg, REAL_CLASSES), model=model.state_dict()), path)
    return path


def write_real_folder(root: Path, clips: int = 4) -> Path:
    """labels.csv and `clips` small mp4 clips (12 frames of 32x32, two classes)."""
    from simgen.video import encode_mp4

    rng = np.random.default_rng(5)
    lines = ["path,label,subject"]
    (root / "clips").mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        frames = rng.integers(0, 255, (12, 32, 32, 3), dtype=np.uint8)
        (root / "clips" / f"c{i}.mp4").write_bytes(encode_mp4(frames, 25.0))
        lines.append(f"clips/c{i}.mp4,{REAL_CLASSES[i % 2]},s{i}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def real_folder(tmp_path) -> Path:
    return write_real_folder(tmp_path / "real")


@pytest.fixture(scope="session")
def helpers():
    """The helpers above (pytest's importlib mode keeps tests from importing conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(rewrite_clip=rewrite_clip, write_real_folder=write_real_folder)
