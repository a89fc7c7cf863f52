"""Tiny sim2real fixtures: a learnable synthetic set and a real folder of three people.

The clip makers and the shard writer are those of ``tests/train/conftest.py`` (loaded by
path: pytest's importlib mode does not let a test module import another conftest).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

_spec = importlib.util.spec_from_file_location("_train_fixtures", Path(__file__).resolve().parents[1] / "train" / "conftest.py")
_train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_train)

MOTIONS = _train.MOTIONS  # still, horizontal, vertical
#: settings that make a whole benchmark run take seconds
FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--sim-epochs", "2", "--finetune-steps", "4",
        "--align-steps", "4", "--real-only-steps", "4", "--no-progress"]


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    """24 clips (8 per motion class), 16 frames of 32x32."""
    rng = np.random.default_rng(0)
    clips = [(MOTIONS[i % 3], _train.motion_clip(MOTIONS[i % 3], 16, 32, rng), [MOTIONS[i % 3]] * 16) for i in range(24)]
    return _train.write_synthetic(tmp_path_factory.mktemp("syn"), clips, classes=MOTIONS, clips_per_shard=24)


def make_real(root: Path, people=("ann", "ben", "cat"), per_class: int = 1, labels=MOTIONS, seed: int = 1,
              extra_rows: list[str] = ()) -> Path:
    """``root/labels.csv`` + mp4 clips: ``per_class`` clips per class and person (label names from ``labels``)."""
    rng = np.random.default_rng(seed)
    lines = ["path,label,subject"]
    for person in people:
        for motion, label in zip(MOTIONS, labels):
            for j in range(per_class):
                rel = f"{person}/{label}{j}.mp4"
                _train.write_video_file(root / rel, _train.motion_clip(motion, 20, 32, rng))
                lines.append(f"{rel},{label},{person}")
    (root / "labels.csv").write_text("\n".join([*lines, *extra_rows]) + "\n")
    return root


@pytest.fixture
def real(tmp_path) -> Path:
    return make_real(tmp_path / "real")


@pytest.fixture(scope="session")
def sim2real_helpers():
    return SimpleNamespace(make_real=make_real, FAST=FAST, MOTIONS=MOTIONS)
