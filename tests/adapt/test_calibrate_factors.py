"""Per-factor analysis: factors found generically in a manifest row, binned, ranked by how much their
bins differ from the real set; class distances; the feature extractor with and without a model."""

import numpy as np
import pytest

from simgen.adapt.calibrate.clips import flatten_factors
from simgen.adapt.calibrate.distances import gaussian_kernel, median_bandwidth
from simgen.adapt.calibrate.per_factor import class_distances, describe, factor_bins, per_factor_analysis


def test_flatten_factors_finds_every_group_and_new_factors_without_code_changes():
    row = {
        "camera": {"fov_deg": 40.0, "trajectory": "pan", "keep_framed": True, "shake_seed": 7},
        "body": {"height_m": 1.8, "bulk": 1.3},  # a factor a newer generator adds
        "clothing": {"shirt": [0.2, 0.4, 0.6], "textures": {"shirt": "noise"}},
        "occlusion": {"static": [{"kind": "box"}, {"kind": "wall"}], "moving": []},
        "action": {"label": "wave1", "speed": 1.1, "segments": [{"action": "wave1"}]},
        "camera_noise": {"crf": 20, "jpeg_quality": None, "noise_seed": 3},
    }
    flat = flatten_factors(row)
    assert flat["body.bulk"] == 1.3 and flat["camera.trajectory"] == "pan" and flat["camera.keep_framed"] is True
    assert flat["clothing.shirt.mean"] == pytest.approx(0.4) and flat["clothing.textures.shirt"] == "noise"
    assert flat["occlusion.static.count"] == 2 and flat["occlusion.moving.count"] == 0
    assert flat["camera_noise.crf"] == 20
    assert not any("seed" in k for k in flat) and "action.label" not in flat and "camera_noise.jpeg_quality" not in flat


def test_factor_bins_numeric_categorical_and_constant():
    values = list(np.linspace(0, 1, 40))
    bins = factor_bins(values, min_bin=8)
    assert len(bins) == 4 and [len(idx) for _, idx, _ in bins] == [10, 10, 10, 10]
    assert bins[0][2]["low"] == 0.0 and bins[-1][2]["high"] == 1.0
    cats = factor_bins(["pan"] * 10 + ["static"] * 12 + ["orbit"] * 3, min_bin=8)
    assert [label for label, _, _ in cats] == ["pan", "static"]  # orbit has too few clips to measure
    assert factor_bins([True] * 20, min_bin=8) == []  # constant: nothing to compare
    assert factor_bins([None] * 5 + [1.0] * 5, min_bin=8) == []


def _toy(seed=0, n=120, m=30):
    """Synthetic features depend on factor 'a' (real ones look like a = 1); factor 'b' does nothing."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1, n)
    b = rng.uniform(0, 1, n)
    kind = rng.choice(["x", "y"], n)
    syn = np.c_[3 * a, np.zeros(n)] + rng.normal(0, 0.3, (n, 2))
    real = np.c_[np.full(m, 3.0), np.zeros(m)] + rng.normal(0, 0.3, (m, 2))
    labels_syn = ["wave" if i % 2 else "jack" for i in range(n)]
    # an action's own factor (only wave clips have it): compared within its class only
    rows = [{"f.a": float(a[i]), "f.b": float(b[i]), "f.kind": str(kind[i]),
             **({"action.amplitudes.sweep": float(b[i])} if labels_syn[i] == "wave" else {})} for i in range(n)]
    pooled = np.concatenate([syn, real])
    kernel = gaussian_kernel(pooled, pooled, median_bandwidth(syn, real))
    labels_real = ["wave" if j % 2 else "jack" for j in range(m)]
    return rows, labels_syn, labels_real, kernel


def test_the_factor_that_moves_the_clips_ranks_first_with_its_nearest_range():
    rows, ls, lr, kernel = _toy()
    result = per_factor_analysis(rows, ls, lr, kernel, np.random.default_rng(1))
    ranked = result["factors"]
    assert [f["factor"] for f in ranked][0] == "f.a"
    top = ranked[0]
    best = next(b for b in top["bins"] if b["bin"] == top["best"])
    assert best["low"] > 0.7 and top["separated"]
    assert top["spread"] > 3 * max(f["spread"] for f in ranked if f["factor"] != "f.a")
    assert result["sentences"][0].startswith("f.a: clips with") and "look most like the real footage" in result["sentences"][0]
    assert set(result["per_class"]) == {"jack", "wave"}
    assert all(r[0]["factor"] == "f.a" for r in result["per_class"].values())
    assert "action.amplitudes.sweep" not in [f["factor"] for f in ranked]
    assert "action.amplitudes.sweep" in [f["factor"] for f in result["per_class"]["wave"]]
    assert "action.amplitudes.sweep" not in [f["factor"] for f in result["per_class"]["jack"]]


def test_describe_flags_overlapping_intervals():
    ranked = [dict(factor="f", spread=0.1, best="lo", worst="hi", separated=False,
                   bins=[dict(bin="lo", mmd=0.1, ci95=[0.0, 0.3], n=10), dict(bin="hi", mmd=0.2, ci95=[0.1, 0.4], n=10)])]
    assert "weak evidence" in describe(ranked)[0]


def test_class_distances_find_the_confused_class():
    rng = np.random.default_rng(2)
    syn = {"wave1": rng.normal(0, 0.3, (20, 2)), "wave2": rng.normal(0, 0.3, (20, 2)) + [3, 0]}
    real = rng.normal(0, 0.3, (6, 2)) + [3, 0]  # real wave1 clips look like synthetic wave2
    pooled = np.concatenate([syn["wave1"], syn["wave2"], real])
    kernel = gaussian_kernel(pooled, pooled, 2.0)
    table = class_distances(["wave1"] * 20 + ["wave2"] * 20, ["wave1"] * 6, kernel)
    assert table["nearest_synthetic_class"] == {"wave1": "wave2"}
    assert table["mmd"]["wave1"]["wave2"] < table["mmd"]["wave1"]["wave1"]


class TestFeatureExtractor:
    def test_fixed_network_is_deterministic_and_leaves_the_global_rng_alone(self):
        import torch

        from simgen.adapt.calibrate.features import FeatureExtractor

        frames = np.random.default_rng(0).integers(0, 255, (10, 32, 32, 3), dtype=np.uint8)
        torch.manual_seed(123)
        before = torch.rand(1)
        torch.manual_seed(123)
        first = FeatureExtractor(None, size=32)
        after = torch.rand(1)
        assert torch.equal(before, after)
        second = FeatureExtractor(None, size=32)
        assert np.array_equal(first(frames), second(frames))
        assert first.kind == "fixed" and "random weights" in first.description

    def test_trained_model_features_are_its_temporal_features(self, tmp_path):
        import torch

        from simgen.adapt.calibrate.features import FeatureExtractor
        from simgen.train.checkpoint import FORMAT
        from simgen.train.data.batch import to_float_video
        from simgen.train.inputs import InputTransform
        from simgen.train.models import create_action_model

        torch.manual_seed(0)
        model = create_action_model(backbone="tiny3d", num_classes=2, input_mode="diff", frame_head=False).eval()
        meta = dict(format=FORMAT, backbone="tiny3d", input="diff", classes=["a", "b"], num_frames=8, stride=1,
                    fps=25.0, size=32, frame_head=False)
        torch.save({"model": model.state_dict(), "meta": meta}, tmp_path / "model.pt")
        extractor = FeatureExtractor(tmp_path / "model.pt", size=64)
        frames = np.random.default_rng(1).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
        with torch.no_grad():
            expected = model.temporal_features(InputTransform("diff")(to_float_video(torch.from_numpy(frames)[None]))).mean(-1)[0]
        assert extractor.kind == "model" and extractor.size == 32
        assert np.allclose(extractor(frames), expected.numpy(), atol=1e-5)

    def test_a_file_that_is_not_a_checkpoint_is_one_clear_error(self, tmp_path):
        from simgen.adapt.calibrate.features import FeatureExtractor
        from simgen.errors import SimgenError

        (tmp_path / "bad.pt").write_bytes(b"nope")
        with pytest.raises(SimgenError, match="--model .*bad.pt: not a readable checkpoint"):
            FeatureExtractor(tmp_path / "bad.pt", size=32)


def test_statistic_drivers_name_the_factor_and_what_its_best_range_leaves():
    from simgen.adapt.calibrate.per_factor import describe_drivers, statistic_drivers

    rng = np.random.default_rng(3)
    girth = rng.uniform(1.0, 2.0, 80)
    rows = [{"body.girth": float(g), "scene.noise": float(rng.uniform())} for g in girth]
    bulk = list(0.1 * girth + rng.normal(0, 0.005, 80))  # 0.10 to 0.20; the real footage has 0.40
    drivers = statistic_drivers(rows, bulk, real_mean=0.40)
    assert drivers[0]["factor"] == "body.girth" and drivers[0]["nearest_mean"] > 0.17
    assert drivers[0]["remaining_gap"] == pytest.approx(0.40 - drivers[0]["nearest_mean"])
    sentence = describe_drivers("person_bulk", float(np.mean(bulk)), 0.40, drivers)
    assert sentence.startswith("person_bulk (real 0.4, synthetic 0.15") and "body.girth moves it most" in sentence
    assert "leaves 8" in sentence  # (0.40 - 0.186) / (0.40 - 0.151)
    assert "closes the gap" in describe_drivers("person_bulk", float(np.mean(bulk)), 0.19, statistic_drivers(rows, bulk, 0.19))
