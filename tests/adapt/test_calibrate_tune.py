"""`simgen calibrate --tune` on a stand-in: "real" clips generated from a spec whose framing is shifted;
the search must move the spec's range towards it."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import yaml

from simgen.adapt.calibrate.tune import cross_entropy_search, factor_bounds, ranges_from_centres

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


@pytest.mark.xfail(strict=True, reason=(
    "issue 12, open: since close-ups let camera.actor_height_fraction reach 3, the search lands at 0.99-1.09 "
    "for real clips at 0.80-0.90 (and at 0.82-0.92 for real 0.60-0.70): the low-level score of 8-clip probes "
    "ranks 0.87 above 0.62 for real 0.65, so it does not resolve framing; it passed only while the bound was 1.0"))
def test_the_search_recovers_the_shifted_framing(stand_in, simgen_cli):
    out = stand_in / "tuned"
    code, stdout, err = simgen_cli.run(["calibrate", "--tune", "--spec", stand_in / "spec.yaml", "--real", stand_in / "real",
                                        "--out", out, "--budget", "13", "--factors", "camera.actor_height_fraction",
                                        "--probe-clips", "8", "--quiet"])
    assert code == 0, err
    tuned = yaml.safe_load((out / "calibrated.yaml").read_text())["camera"]["actor_height_fraction"]
    result = yaml.safe_load((out / "tuning.json").read_text())
    assert abs(np.mean(tuned) - 0.85) < 0.12, (tuned, [(p["centres"], round(p["score"], 3)) for p in result["probes"]])
    assert result["gap_after"] < result["gap_before"] / 3
    assert "tuning curve" in (out / "tuning.html").read_text()
    assert "camera.actor_height_fraction: [0.35, 0.45] -> [" in stdout


def test_tuning_a_field_that_is_not_a_range_is_one_clear_error(stand_in, simgen_cli, tmp_path):
    simgen_cli.one_line_error(["calibrate", "--tune", "--spec", stand_in / "spec.yaml", "--real", stand_in / "real",
                               "--out", tmp_path / "t", "--factors", "camera.trajectory"], "--factors", "camera.trajectory", "not a [low, high] range")
