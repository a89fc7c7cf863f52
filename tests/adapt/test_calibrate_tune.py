"""`simgen calibrate --tune` on a stand-in: "real" clips generated from a spec whose framing is shifted;
the search must move the spec's range towards it."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import yaml

from simgen.adapt.calibrate.tune import cross_entropy_search, factor_bounds, ranges_from_centres, search_bounds

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


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """A spec framing people small (0.35-0.45 of the frame), and "real" clips framed large (0.80-0.90)."""
    from simgen.dataset.reader import DatasetReader
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    root = tmp_path_factory.mktemp("tune")
    spec = load_spec(preset="demo", overrides={**SMALL, "clips": 8, "seed": 5, "camera.actor_height_fraction": [0.35, 0.45]})
    (root / "spec.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
    shifted = load_spec(preset="demo", overrides={**SMALL, "clips": 16, "seed": 99, "camera.actor_height_fraction": [0.8, 0.9]})
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


@pytest.mark.xfail(strict=True, reason=(
    "issue 12, open: with the search bounded to [0.05, 1.0] (whole-body framing), 13 probes of 8 clips land at "
    "centres 0.76 / 0.69 / 0.95 for real 0.80-0.90 (seeds 0-2), and at 0.43 / 0.71 / 0.95 for real 0.60-0.70: "
    "the low-level statistics of 8-frame 48x48 probes barely separate framings between 0.6 and 1.0"))
def test_the_search_recovers_the_shifted_framing_on_every_seed(stand_in, tmp_path):
    from simgen.adapt.calibrate.tune import tune_spec

    centres = []
    for seed in (0, 1, 2):
        result = tune_spec(stand_in / "spec.yaml", stand_in / "real", tmp_path / f"s{seed}", budget=13,
                           factors=["camera.actor_height_fraction"], probe_clips=8, seed=seed, progress=False)
        centres.append(float(np.mean(result["factors"]["camera.actor_height_fraction"]["after"])))
    assert all(abs(c - 0.85) < 0.12 for c in centres), centres


def test_tuning_a_field_that_is_not_a_range_is_one_clear_error(stand_in, simgen_cli, tmp_path):
    simgen_cli.one_line_error(["calibrate", "--tune", "--spec", stand_in / "spec.yaml", "--real", stand_in / "real",
                               "--out", tmp_path / "t", "--factors", "camera.trajectory"], "--factors", "camera.trajectory", "not a [low, high] range")
