"""Jobs: same bytes whatever the worker count or backend; resume after a kill; bad input."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simgen.errors import SimgenError
from simgen.jobs.runner import generate_dataset


def _digest(root: Path) -> dict[str, str]:
    files = sorted((root / "shards").glob("*.tar")) + [root / "manifest.jsonl"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_two_workers_make_the_same_bytes_as_one(tiny_dataset, make_tiny_spec, tmp_path):
    out = tmp_path / "w2"
    generate_dataset(make_tiny_spec(**make_tiny_spec.all_features), out, workers=2, progress=False)
    assert _digest(out) == _digest(tiny_dataset)


def test_other_seed_gives_other_clips(tiny_dataset, make_tiny_spec, tmp_path):
    out = tmp_path / "s2"
    generate_dataset(make_tiny_spec(seed=12, **make_tiny_spec.all_features), out, workers=1, progress=False)
    a = [json.loads(l)["checksum"] for l in (tiny_dataset / "manifest.jsonl").read_text().splitlines()]
    b = [json.loads(l)["checksum"] for l in (out / "manifest.jsonl").read_text().splitlines()]
    assert not set(a) & set(b)


@pytest.mark.slow
def test_ray_backend_makes_the_same_bytes(tiny_dataset, make_tiny_spec, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    generate_dataset(make_tiny_spec(**make_tiny_spec.all_features), out, workers=2, backend="ray", progress=False)
    assert _digest(out) == _digest(tiny_dataset)


def test_rerun_of_a_finished_job_changes_nothing(tiny_dataset, make_tiny_spec):
    before = _digest(tiny_dataset)
    summary = generate_dataset(make_tiny_spec(**make_tiny_spec.all_features), tiny_dataset, workers=1, progress=False)
    assert summary["made_now"] == 0 and summary["resumed_from"] == 6
    assert _digest(tiny_dataset) == before


def test_resume_after_a_kill_ends_with_the_uninterrupted_dataset(tmp_path):
    """Kill a real `simgen generate` after its first shard, re-run it, compare with a clean run."""
    args = ["--preset", "demo", "--clips", "12", "--frames", "6", "--size", "48", "--set", "output.shard_size=2", "--seed", "4", "--quiet"]
    cli = [sys.executable, "-m", "simgen.pipelines.cli", "generate"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cli + args + ["--out", str(killed), "--workers", "1"], start_new_session=True)
    shards = killed / "shards"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(shards.glob("*.tar"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(shards.glob("*.tar")))
    assert 1 <= done_before < 6, "the job finished before it could be killed; make it longer"
    meta = json.loads((killed / "dataset.json").read_text())
    assert meta["complete"] is False
    manifest_rows = (killed / "manifest.jsonl").read_text().splitlines()
    assert len(manifest_rows) <= 2 * done_before  # never lists an unfinished shard
    subprocess.run(cli + args + ["--out", str(killed), "--workers", "2"], check=True)
    clean = tmp_path / "clean"
    subprocess.run(cli + args + ["--out", str(clean), "--workers", "1"], check=True)
    assert _digest(killed) == _digest(clean)
    assert json.loads((killed / "dataset.json").read_text())["complete"] is True


def test_resume_refuses_a_different_spec(tiny_dataset, make_tiny_spec):
    with pytest.raises(SimgenError, match="another spec"):
        generate_dataset(make_tiny_spec(seed=99, **make_tiny_spec.all_features), tiny_dataset, progress=False)


def test_resume_repairs_a_torn_or_partial_manifest(tiny_dataset, make_tiny_spec, tmp_path):
    """A job killed while appending rows leaves a half line, or only some of a shard's rows:
    the rerun rebuilds them from the shards and ends with the uninterrupted dataset."""
    out = tmp_path / "torn"
    shutil.copytree(tiny_dataset, out)
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    (out / "manifest.jsonl").write_text("".join(lines[:2] + lines[3:-1]) + lines[-1][: len(lines[-1]) // 2])
    generate_dataset(make_tiny_spec(**make_tiny_spec.all_features), out, progress=False)
    assert _digest(out) == _digest(tiny_dataset)


def test_resume_refuses_other_action_files(make_tiny_spec, tmp_path):
    actions = tmp_path / "actions"
    actions.mkdir()
    salute = "name: salute\nkeyframes:\n  - {t: 0.0, right_shoulder: [0, 0, %d]}\n  - {t: 0.5, right_shoulder: [0, 0, 60]}\n"
    (actions / "salute.yaml").write_text(salute % 20)
    spec = make_tiny_spec(classes=["salute"], clips=2, frames=4)
    generate_dataset(spec, tmp_path / "out", actions_dir=actions, progress=False)
    (actions / "salute.yaml").write_text(salute % 40)
    with pytest.raises(SimgenError, match="another action files"):
        generate_dataset(spec, tmp_path / "out", actions_dir=actions, progress=False)


def test_unknown_action_fails_before_writing(tmp_path, make_tiny_spec):
    spec = make_tiny_spec(classes=["wave1", "moonwalk"])
    out = tmp_path / "never"
    with pytest.raises(SimgenError, match="unknown action 'moonwalk'"):
        generate_dataset(spec, out, progress=False)
    assert not out.exists()


def test_a_clip_does_not_depend_on_the_clips_rendered_before_it(make_tiny_spec):
    """Workers reuse one pybullet world; nothing from an earlier clip may leak into the next."""
    import numpy as np

    from simgen.clip import Simulator, make_clip
    from simgen.motion.library import ActionLibrary
    from simgen.sampling import clip_label, clip_seed, sample_factors

    spec = make_tiny_spec(
        clips=40,
        **{
            "scene.distractor_count": {"choice": [0, 2]},
            "occlusion.probability": 0.5,
            "camera_noise.motion_blur_probability": 0.5,
            "camera_noise.sensor_noise_std": [0, 5],
            "sequence.probability": 0.5,
        },
    )

    def render(order):
        sim = Simulator(ActionLibrary())
        out = {}
        for i in order:
            seed = clip_seed(spec.seed, i)
            factors = sample_factors(spec, sim.library, clip_label(spec, i), seed)
            out[i] = make_clip(sim, spec, factors, seed).frames
        sim.close()
        return out

    order = [0, 1, 2, 3, 4, 5, 6, 7]
    a, b = render(order), render(order[::-1])
    for i in order:
        assert np.array_equal(a[i], b[i]), f"clip {i} differs with rendering order"
