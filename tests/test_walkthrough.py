"""The README's getting-started block, run as written (scaled down by its variables), so
that the README cannot drift from the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- walkthrough -->"


def walkthrough_script() -> str:
    text = README.read_text()
    assert MARKER in text, "the README lost its walk-through block"
    block = text.split(MARKER, 1)[1].lstrip()
    assert block.startswith("```bash\n")
    return block[len("```bash\n"):].split("\n```", 1)[0]


def test_the_walkthrough_names_every_step():
    script = walkthrough_script()
    for step in ("actions --actions my_actions --preview", "generate", "train", "evaluate", "export", "preview"):
        assert f"simgen {step}" in script


@pytest.mark.slow
def test_readme_walkthrough_runs(tmp_path):
    """~10 s of work: 8 + 8 clips of 8 frames, one epoch."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CLIPS": "8", "TEST_CLIPS": "8", "FRAMES": "8", "EPOCHS": "1"}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough_script()], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "salute.gif").stat().st_size > 10_000
    assert (tmp_path / "runs/mine/first.mp4").stat().st_size > 1_000
    data = json.loads((tmp_path / "runs/mine/dataset.json").read_text())
    assert "salute" in data["classes"]
    metrics = json.loads((tmp_path / "runs/mine_test.json").read_text())
    assert metrics["n_clips"] == 8 and 0.0 <= metrics["accuracy"] <= 1.0
