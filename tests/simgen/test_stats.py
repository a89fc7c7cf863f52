"""`simgen stats`: dataset summary JSON + figure, and the measurement helpers on hand-made arrays."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from simgen.errors import SimgenError
from simgen.jobs.runner import generate_dataset
from simgen.spec import load_spec
from simgen.stats import (
    add_arguments,
    dataset_stats,
    factor_bins,
    flatten_factors,
    motion_energy_2d,
    motion_energy_3d,
    pose_descriptor,
    pose_distance,
    run,
    visibility_per_frame,
)

CLIPS, FRAMES = 6, 6


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """6 clips of 2 classes (3 each, so within-class diversity is defined), 6 frames, 32x32."""
    out = tmp_path_factory.mktemp("stats") / "ds"
    spec = load_spec(
        preset="demo",
        overrides={
            "clips": CLIPS,
            "frames": FRAMES,
            "size": [32, 32],
            "output.shard_size": 3,
            "classes": ["wave1", "squat"],
        },
    )
    generate_dataset(spec, out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def summary(dataset, tmp_path_factory):
    outdir = tmp_path_factory.mktemp("stats_out")
    s = dataset_stats(dataset, outdir / "stats.json", outdir / "stats.png", progress=False)
    return s, outdir


# ---- the dataset summary ---------------------------------------------------------------------


def test_json_written_and_matches_return(summary):
    s, outdir = summary
    on_disk = json.loads((outdir / "stats.json").read_text())
    assert on_disk == json.loads(json.dumps(s))
    for field in (
        "clips",
        "clips_per_class",
        "factor_bins",
        "visibility_histogram",
        "visibility_source",
        "motion_energy_per_class",
        "rejection_rate",
        "diversity_per_class",
        "diversity_between_classes",
    ):
        assert field in on_disk


def test_counts(summary, dataset):
    s, _ = summary
    assert s["clips"] == CLIPS
    assert s["frames"] == CLIPS * FRAMES
    assert sum(s["clips_per_class"].values()) == CLIPS
    assert set(s["clips_per_class"]) == {"wave1", "squat"}
    rej = json.loads((dataset / "dataset.json").read_text()).get("rejections")
    if rej and rej.get("attempts"):
        assert s["rejection_rate"] == pytest.approx(rej["rejected"] / rej["attempts"])
    else:
        assert s["rejection_rate"] is None


def test_factor_histograms_sum_to_clips(summary):
    s, _ = summary
    fb = s["factor_bins"]
    for name in ("camera.azimuth_deg", "camera.actor_height_fraction", "body.height_m", "action.speed"):
        assert fb[name]["kind"] == "numeric"
        assert len(fb[name]["counts"]) == 8 and len(fb[name]["edges"]) == 9
        assert sum(fb[name]["counts"]) == CLIPS
        assert fb[name]["edges"][0] <= fb[name]["min"] <= fb[name]["max"] <= fb[name]["edges"][-1]
    assert fb["camera.trajectory"]["kind"] == "categorical"
    assert sum(fb["camera.trajectory"]["counts"].values()) == CLIPS
    assert sum(fb["action.mirror"]["counts"].values()) == CLIPS
    assert set(fb["action.mirror"]["counts"]) <= {"true", "false"}
    assert not any(k.endswith("_seed") for k in fb)
    for v in fb.values():
        n = sum(v["counts"]) if v["kind"] == "numeric" else sum(v["counts"].values())
        assert n + v["missing"] == CLIPS


def test_visibility_histogram_sums_to_frames(summary):
    s, _ = summary
    h = s["visibility_histogram"]
    assert sum(h["counts"]) == CLIPS * FRAMES
    assert h["edges"][0] == 0.0 and h["edges"][-1] == 1.0
    assert s["visibility_source"] in {"visible_fraction", "keypoints_2d"}
    centres = (np.asarray(h["edges"][:-1]) + np.asarray(h["edges"][1:])) / 2
    assert s["visibility_mean"] == pytest.approx(np.dot(h["counts"], centres) / sum(h["counts"]), abs=0.5 / len(h["counts"]))


def test_motion_and_diversity_are_measured(summary):
    s, _ = summary
    for c in ("wave1", "squat"):
        me = s["motion_energy_per_class"][c]
        assert me["keypoints_3d_m_per_s"] > 0 and me["keypoints_2d_bbox_heights_per_s"] > 0
        assert s["diversity_per_class"][c] > 0
        assert s["diversity_sampled_per_class"][c] == 3
    assert s["diversity_between_classes"] > 0


def test_png_is_a_non_blank_image(summary):
    from matplotlib.image import imread

    _, outdir = summary
    png = outdir / "stats.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(png)
    assert img.shape[0] > 400 and img.shape[1] > 800
    assert float(img[..., :3].std()) > 0.05


def test_max_clips_and_rejection_rate(dataset, tmp_path):
    meta_path = dataset / "dataset.json"
    original = meta_path.read_text()
    try:
        meta = json.loads(original)
        meta["rejections"] = {"rejected": 2, "attempts": 8}
        meta_path.write_text(json.dumps(meta))
        s = dataset_stats(dataset, tmp_path / "s.json", tmp_path / "s.png", max_clips=4, progress=False)
        meta.pop("rejections")
        meta_path.write_text(json.dumps(meta))
        without = dataset_stats(dataset, tmp_path / "w.json", tmp_path / "w.png", max_clips=1, progress=False)
    finally:
        meta_path.write_text(original)
    assert s["rejection_rate"] == pytest.approx(0.25)
    assert without["rejection_rate"] is None and without["clips"] == 1
    assert s["clips"] == 4 and s["clips_in_dataset"] == CLIPS
    assert sum(s["clips_per_class"].values()) == 4
    assert sum(s["visibility_histogram"]["counts"]) == 4 * FRAMES


def test_run_prints_paths_and_table(dataset, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = [str(dataset), "--out", str(tmp_path / "a.json"), "--png", str(tmp_path / "a.png"), "--quiet"]
    args = parser.parse_args(argv)
    assert run(args) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "a.json") in out and str(tmp_path / "a.png") in out
    assert "wave1" in out and "squat" in out and "diversity between classes" in out
    defaults = parser.parse_args([str(dataset)])
    assert defaults.out is None and defaults.png is None and defaults.max_clips is None and not defaults.quiet


def test_not_a_dataset_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SimgenError, match="not a simgen dataset"):
        dataset_stats(tmp_path / "empty", tmp_path / "x.json", tmp_path / "x.png", progress=False)
    with pytest.raises(SimgenError):
        dataset_stats(tmp_path / "missing", tmp_path / "x.json", tmp_path / "x.png", progress=False)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "dataset.json").write_text("{}")
    with pytest.raises(SimgenError, match="manifest"):
        dataset_stats(tmp_path / "bad", tmp_path / "x.json", tmp_path / "x.png", progress=False)
    assert not (tmp_path / "x.json").exists()


def test_malformed_annotations_name_the_field(tmp_path):
    import io
    import tarfile

    root = tmp_path / "ds"
    (root / "shards").mkdir(parents=True)
    (root / "dataset.json").write_text(json.dumps({"classes": ["a"], "spec": {"fps": 25}}))
    (root / "manifest.jsonl").write_text(json.dumps({"key": "c0", "shard": "s.tar", "label": "a"}) + "\n")
    payload = json.dumps({"label": "a", "keypoints_3d": [[1.0, 2.0]], "keypoints_2d": [], "bbox": []}).encode()
    with tarfile.open(root / "shards" / "s.tar", "w") as tar:
        info = tarfile.TarInfo("c0.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(SimgenError) as exc:
        dataset_stats(root, tmp_path / "x.json", tmp_path / "x.png", progress=False)
    assert exc.value.field == "keypoints_3d"


# ---- the helpers on hand-made arrays -----------------------------------------------------------


def test_distance_of_identical_clips_is_zero():
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(10, 5, 3))
    a, b = pose_descriptor(kp), pose_descriptor(kp.copy())
    assert a.shape == (16, 5, 3)
    assert pose_distance(a, b) == 0.0
    # A whole-body translation is removed by the root-relative step.
    assert pose_distance(a, pose_descriptor(kp + np.array([3.0, -1.0, 2.0]))) == pytest.approx(0.0, abs=1e-12)


def test_distance_known_answer():
    # Two joints; joint 1 differs by (3, 4, 0) -> 5 m in every frame, joint 0 (the root) by 0.
    a = np.zeros((4, 2, 3))
    b = np.zeros((4, 2, 3))
    b[:, 1] = [3.0, 4.0, 0.0]
    assert pose_distance(pose_descriptor(a), pose_descriptor(b)) == pytest.approx(2.5)  # mean of 0 and 5


def test_descriptor_resamples_linearly():
    # Joint 1 moves linearly along x from 0 to 1 over 3 frames; resampled to 16 frames it stays linear.
    kp = np.zeros((3, 2, 3))
    kp[:, 1, 0] = [0.0, 0.5, 1.0]
    d = pose_descriptor(kp)
    assert np.allclose(d[:, 1, 0], np.linspace(0, 1, 16))
    assert np.allclose(pose_descriptor(kp[:1]), 0.0)  # one frame: repeated


def test_motion_energy_static_is_zero_and_known_speed():
    static = np.tile(np.array([[0.0, 1.0, 0.0], [0.2, 1.5, 0.1]]), (8, 1, 1))
    assert motion_energy_3d(static, fps=25) == 0.0
    moving = np.zeros((5, 2, 3))
    moving[:, :, 0] = np.arange(5)[:, None] * 0.01  # 1 cm per frame
    assert motion_energy_3d(moving, fps=25) == pytest.approx(0.25)
    assert motion_energy_3d(static[:1], fps=25) is None

    kp2 = np.zeros((4, 3, 3))
    kp2[..., 2] = 1
    box = np.tile([0.0, 0.0, 10.0, 50.0], (4, 1))
    assert motion_energy_2d(kp2, box, fps=25) == 0.0
    kp2[:, :, 1] = np.arange(4)[:, None] * 5.0  # 5 px per frame, box 50 px high -> 0.1 heights/frame
    assert motion_energy_2d(kp2, box, fps=10) == pytest.approx(1.0)
    kp2[..., 2] = 0  # nothing visible: no measurement
    assert motion_energy_2d(kp2, box, fps=10) is None


def test_visibility_sources():
    kp = np.ones((2, 4, 3))
    kp[0, :2, 2] = 0
    vis, src = visibility_per_frame({"keypoints_2d": kp.tolist()})
    assert src == "keypoints_2d" and np.allclose(vis, [0.5, 1.0])
    vis, src = visibility_per_frame({"keypoints_2d": kp.tolist(), "visible_fraction": [0.3, 0.9]})
    assert src == "visible_fraction" and np.allclose(vis, [0.3, 0.9])


def test_flatten_and_bin_factors():
    rows = [
        flatten_factors(
            {
                "camera": {"azimuth_deg": float(i), "trajectory": "pan" if i % 2 else "orbit", "shake_seed": 7},
                "action": {"label": "a", "mirror": bool(i % 2)},
                "scene": {"ambient": 0.5},
            }
        )
        for i in range(10)
    ]
    assert set(rows[0]) == {"camera.azimuth_deg", "camera.trajectory", "action.mirror"}
    fb = factor_bins(rows)
    assert sum(fb["camera.azimuth_deg"]["counts"]) == 10 and len(fb["camera.azimuth_deg"]["counts"]) == 8
    assert fb["camera.trajectory"]["counts"] == {"orbit": 5, "pan": 5}
    assert fb["action.mirror"]["counts"] == {"false": 5, "true": 5}
