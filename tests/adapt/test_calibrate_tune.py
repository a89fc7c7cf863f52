"""`simgen calibrate --tune` on a stand-in: "real" clips generated from a spec whose framing is shifted;
the search must move the spec's range towards it."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from simgen.adapt.calibrate.tune import PROBE_CLIPS, cross_entropy_search, factor_bounds, ranges_from_centres, search_bounds

SMALL = {"frames": 8, "size": [48, 48], "output.shard_size": 8, "occlusion.probability": 0.0, "sequence.probability": 0.0,
         "scene.distractor_count": 0, "camera_noise.motion_blur_probability": 0.0, "camera_noise.jpeg_probability": 0.0,
         "camera_noise.sensor_noise_std": 0.0, "camera.trajectory": "static", "classes": ["wave1", "jack"]}


def test_cross_entropy_search_finds_the_minimum_of_a_bowl():
    target = np.array([3.0, -1.0])  # 3.2 from the start, 3 initial spreads
    errors = []
    for seed in range(10):
        probes = cross_entropy_search(lambda c: float(((c - target) ** 2).sum()), np.zeros(2), np.ones(2),
                                      np.random.default_rng(seed), budget=40)
        assert len(probes) == 40 and probes[0]["centres"] == [0.0, 0.0]
        errors.append(np.linalg.norm(np.asarray(min(probes, key=lambda p: p["score"])["centres"]) - target))
    assert np.median(errors) < 0.7 and max(errors) < 2.0, errors  # from 3.16: a fifth of the way left


def test_proposed_ranges_stay_inside_what_the_spec_accepts():
    assert factor_bounds("camera.actor_height_fraction") == (0.05, 3.0)
    moved = ranges_from_centres({"camera.actor_height_fraction": (0.5, 0.7)}, np.array([3.4]))
    assert moved == {"camera.actor_height_fraction": [2.8, 3.0]}


def _make_stand_in(root, real_range):
    """A spec framing people small (0.35-0.45 of the frame), and "real" clips framed at ``real_range``."""
    from simgen.dataset.reader import DatasetReader
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    spec = load_spec(preset="demo", overrides={**SMALL, "clips": 8, "seed": 5, "camera.actor_height_fraction": [0.35, 0.45]})
    (root / "spec.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
    shifted = load_spec(preset="demo", overrides={**SMALL, "clips": 16, "seed": 99, "camera.actor_height_fraction": list(real_range)})
    generate_dataset(shifted, root / "shifted", workers=1, progress=False)
    reader = DatasetReader(root / "shifted")
    real = root / "real"
    real.mkdir()
    with open(real / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"])
        for i, row in enumerate(reader.rows):
            (real / f"{row['key']}.mp4").write_bytes(reader.read_bytes(i, "mp4"))
            writer.writerow([f"{row['key']}.mp4", row["label"]])
    return root


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    return _make_stand_in(tmp_path_factory.mktemp("tune"), (0.8, 0.9))


def test_tune_writes_the_calibrated_spec_and_shrinks_the_gap(stand_in, simgen_cli):
    out = stand_in / "tuned"
    code, stdout, err = simgen_cli.run(["calibrate", "--tune", "--spec", stand_in / "spec.yaml", "--real", stand_in / "real",
                                        "--out", out, "--budget", "13", "--factors", "camera.actor_height_fraction",
                                        "--probe-clips", "8", "--quiet"])
    assert code == 0, err
    tuned = yaml.safe_load((out / "calibrated.yaml").read_text())["camera"]["actor_height_fraction"]
    result = yaml.safe_load((out / "tuning.json").read_text())
    assert tuned[0] > 0.45 and tuned[1] <= 1.0  # moved towards the real framing, not into the keep_framed plateau
    assert result["gap_after"] < result["gap_before"] / 3
    assert "tuning curve" in (out / "tuning.html").read_text()
    assert "camera.actor_height_fraction: [0.35, 0.45] -> [" in stdout


def test_whole_body_framing_bounds_the_search_below_the_keep_framed_plateau():
    camera = {"framing": "full", "keep_framed": True}
    assert search_bounds("camera.actor_height_fraction", {"camera": camera}) == (0.05, 1.0)
    for other in ({"framing": {"choice": ["full", "upper"]}, "keep_framed": True}, {"framing": "full", "keep_framed": False}):
        assert search_bounds("camera.actor_height_fraction", {"camera": other}) == (0.05, 3.0)
    assert ranges_from_centres({"camera.actor_height_fraction": (0.35, 0.45)}, np.array([2.0]),
                               {"camera.actor_height_fraction": (0.05, 1.0)}) == {"camera.actor_height_fraction": [0.9, 1.0]}


#: how near the tuned centre must come to the stand-in's true centre
RECOVERY_TOLERANCE = 0.1


def _recovered_centres(root, seeds, framing_term=True):
    from simgen.adapt.calibrate.tune import tune_spec

    centres = []
    for seed in seeds:
        result = tune_spec(root / "spec.yaml", root / "real", root / f"tuned_s{seed}_{framing_term}", budget=20,
                           factors=["camera.actor_height_fraction"], probe_clips=PROBE_CLIPS, seed=seed, progress=False,
                           framing_term=framing_term)
        centres.append(float(np.mean(result["factors"]["camera.actor_height_fraction"]["after"])))
    return centres


@pytest.mark.long
def test_the_search_recovers_the_shifted_framing(stand_in):
    """Seed 0 of the test below (20 probes of PROBE_CLIPS clips; seven such searches took 432 s on the shared CPU). With 16 clips a probe it
    landed at 0.747 (2026-12-01): the reason the default is 32."""
    centres = _recovered_centres(stand_in, [0])
    assert all(abs(c - 0.85) <= RECOVERY_TOLERANCE for c in centres), centres


@pytest.mark.long
@pytest.mark.parametrize("truth", [0.85, 0.65])
def test_the_search_recovers_the_shifted_framing_on_every_seed(truth, tmp_path):
    """Stand-ins at [0.8, 0.9] (beyond about 0.8 keep_framed backs the camera off: the least zoom that frames
    alike is the answer) and [0.6, 0.7], from a spec at [0.35, 0.45]; seeds 0-2 of the search."""
    root = _make_stand_in(tmp_path, (truth - 0.05, truth + 0.05))
    centres = _recovered_centres(root, [0, 1, 2])
    assert all(abs(c - truth) <= RECOVERY_TOLERANCE for c in centres), centres


def test_a_probe_the_generator_refuses_is_the_worst_probe_not_the_end(stand_in, monkeypatch):
    """E.g. a speed too fast for the physics to track: the search goes on around it."""
    import simgen.jobs.runner as runner
    from simgen.adapt.calibrate.tune import tune_spec
    from simgen.errors import SimgenError

    real_generate = runner.generate_dataset

    def refusing(spec, folder, **kw):
        if spec.camera.actor_height_fraction.low > 0.5:
            raise SimgenError("field 'physics': clip 2 ('jack'): all 30 attempts were physically implausible")
        return real_generate(spec, folder, **kw)

    monkeypatch.setattr(runner, "generate_dataset", refusing)
    out = stand_in / "tuned_refused"
    result = tune_spec(stand_in / "spec.yaml", stand_in / "real", out, budget=6, factors=["camera.actor_height_fraction"],
                       probe_clips=4, seed=0, progress=False)
    failed = [p for p in result["probes"] if "failed" in p]
    assert result["probes_failed"] == len(failed) >= 1 and all(p["score"] is None for p in failed)
    assert "physically implausible" in failed[0]["failed"]
    assert result["factors"]["camera.actor_height_fraction"]["after"][0] <= 0.5  # never a refused range
    written = json.loads((out / "tuning.json").read_text())
    assert written["probes_failed"] == len(failed) and "could not be generated" in (out / "tuning.html").read_text()


def test_the_command_line_default_is_the_library_default():
    from simgen.pipelines.cli import build_parser

    args = build_parser().parse_args(["calibrate", "--synthetic", "s", "--real", "r", "--out", "o"])
    assert args.probe_clips == PROBE_CLIPS


def test_tuning_a_field_that_is_not_a_range_is_one_clear_error(stand_in, simgen_cli, tmp_path):
    simgen_cli.one_line_error(["calibrate", "--tune", "--spec", stand_in / "spec.yaml", "--real", stand_in / "real",
                               "--out", tmp_path / "t", "--factors", "camera.trajectory"], "--factors", "camera.trajectory", "not a [low, high] range")
