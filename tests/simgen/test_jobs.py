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


# ---- one job per folder, extension, interrupts, inputs the spec only names -------------------

QUICK = {"frames": 4, "size": [32, 32], "physics.enabled": False}


def _files(root: Path) -> dict[str, bytes]:
    """Every file a finished dataset is made of, by name (the job lock aside)."""
    names = ["dataset.json", "manifest.jsonl"] + [f"shards/{p.name}" for p in sorted((root / "shards").iterdir())]
    return {name: (root / name).read_bytes() for name in names}


def test_extending_a_dataset_gives_what_one_run_with_more_clips_gives(make_tiny_spec, tmp_path):
    """4 clips in shards of 3 leave a shorter last shard; extending to 7 must rewrite it and end
    byte for byte (shards, manifest, dataset.json) with a single 7-clip run."""
    grown = tmp_path / "grown"
    generate_dataset(make_tiny_spec(clips=4, **QUICK), grown, progress=False)
    summary = generate_dataset(make_tiny_spec(clips=7, **QUICK), grown, progress=False)
    assert summary["made_now"] == 4 and summary["clips"] == 7  # shard 1 (3 clips, was 1) and shard 2 (1)
    fresh = tmp_path / "fresh"
    generate_dataset(make_tiny_spec(clips=7, **QUICK), fresh, progress=False)
    assert _files(grown) == _files(fresh)
    with pytest.raises(SimgenError, match="holds a dataset of 7 clips.*--clips 7 or more"):
        generate_dataset(make_tiny_spec(clips=5, **QUICK), grown, progress=False)


def test_an_extension_killed_halfway_resumes_into_the_same_dataset(make_tiny_spec, tmp_path, monkeypatch):
    """The shorter shard stays listed (its clips are still good) until its successor replaces it."""
    import simgen.jobs.runner as runner

    out = tmp_path / "ext"
    generate_dataset(make_tiny_spec(clips=4, **QUICK), out, progress=False)
    real = runner.run_local

    def dies_after_one_shard(*args, **kwargs):
        results = real(*args, **kwargs)
        yield next(results)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_local", dies_after_one_shard)
    with pytest.raises(KeyboardInterrupt, match="keeps 6 of 10 clips in 2 finished shards"):
        generate_dataset(make_tiny_spec(clips=10, **QUICK), out, progress=False)
    monkeypatch.setattr(runner, "run_local", real)
    generate_dataset(make_tiny_spec(clips=10, **QUICK), out, progress=False)
    fresh = tmp_path / "fresh"
    generate_dataset(make_tiny_spec(clips=10, **QUICK), fresh, progress=False)
    assert _files(out) == _files(fresh)


def test_an_interrupt_that_keeps_nothing_says_so(make_tiny_spec, tmp_path, monkeypatch, capsys):
    import simgen.jobs.runner as runner
    from simgen.pipelines.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(runner, "run_local", interrupted)
    status = main(["generate", "--preset", "demo", "--clips", "2", "--frames", "4", "--size", "32", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 130 and err.count("\n") == 1 and "nothing was kept" in err, err


def test_a_second_job_on_the_same_folder_is_refused(make_tiny_spec, tmp_path, capsys):
    """While one job holds --out, another stops with one line (exit 2). The lock is the kernel's:
    after the holder is killed with SIGKILL, a rerun resumes."""
    from simgen.pipelines.cli import main

    out = tmp_path / "busy"
    args = ["--preset", "demo", "--clips", "12", "--frames", "4", "--size", "32", "--set", "output.shard_size=2", "--set", "physics.enabled=false"]
    first = subprocess.Popen([sys.executable, "-m", "simgen.pipelines.cli", "generate", *args, "--out", str(out), "--quiet"], start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "dataset.json").exists():
            time.sleep(0.005)
        os.killpg(first.pid, signal.SIGSTOP)  # frozen mid-job, still holding the folder
        assert not json.loads((out / "dataset.json").read_text())["complete"], "the job ended before it was stopped"
        tmp_before = sorted(p.name for p in (out / "shards").iterdir())
        status = main(["generate", *args, "--out", str(out), "--quiet"])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and "another `simgen generate`" in err and "--out" in err, err
        assert sorted(p.name for p in (out / "shards").iterdir()) == tmp_before  # touched nothing of the first job's
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert main(["generate", *args, "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "dataset.json").read_text())["complete"] is True


def test_resume_refuses_changed_background_images_or_occluder_assets(make_tiny_spec, tmp_path):
    import cv2
    import numpy as np

    images = tmp_path / "backgrounds"
    images.mkdir()
    cv2.imwrite(str(images / "a.png"), np.full((8, 8, 3), 90, np.uint8))
    crate = tmp_path / "crate.urdf"
    urdf = "<robot name='crate'><link name='base'><visual><geometry><box size='0.%d 0.4 0.4'/></geometry></visual></link></robot>"
    crate.write_text(urdf % 4)
    spec = make_tiny_spec(
        clips=1, **QUICK, **{"scene.background": "image", "scene.background_dir": str(images), "occlusion.assets": [str(crate)]}
    )
    generate_dataset(spec, tmp_path / "out", progress=False)
    cv2.imwrite(str(images / "a.png"), np.full((8, 8, 3), 200, np.uint8))
    with pytest.raises(SimgenError, match="another background images or occluder assets"):
        generate_dataset(spec, tmp_path / "out", progress=False)
    cv2.imwrite(str(images / "a.png"), np.full((8, 8, 3), 90, np.uint8))
    generate_dataset(spec, tmp_path / "out", progress=False)  # the same files again: resumes
    crate.write_text(urdf % 6)
    with pytest.raises(SimgenError, match="another background images or occluder assets"):
        generate_dataset(spec, tmp_path / "out", progress=False)
