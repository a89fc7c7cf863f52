"""The two-rate (SlowFast-style) backbone ``tiny3d_2rate`` (train/models/two_rate.py)."""

import json

import pytest
import torch

from simgen.train.models import create_action_model
from simgen.train.models.two_rate import TwoRate


def _model(head="linear", k=3):
    torch.manual_seed(0)
    return create_action_model(backbone="tiny3d_2rate", num_classes=k, input_mode="diff", head=head)


@pytest.mark.parametrize("t", [8, 12, 16, 32])
@pytest.mark.parametrize("head", ["linear", "mstcn"])
def test_shapes_keep_one_step_per_two_frames_and_the_model_interface(t, head):
    m = _model(head).eval()
    x = torch.rand(2, 1, t, 32, 32)
    out = m(x)
    assert isinstance(m.backbone, TwoRate) and m.out_features == 64 + 192
    assert out["temporal"].shape == (2, 256, t // 2)
    assert out["clip"].shape == (2, 3) and out["frame"].shape == (2, 3, t)
    assert torch.allclose(m.features(x), out["temporal"].mean(-1))  # what adapt/ aligns


def test_the_slow_pathway_reads_every_alpha_th_frame_and_the_fast_one_every_frame():
    m = _model().eval()
    seen = {}

    def record(name):
        def hook(mod, inputs, output):
            seen[name] = inputs[0].shape[2]
        return hook

    m.backbone.slow_stem.register_forward_hook(record("slow"))
    m.backbone.fast_stem.register_forward_hook(record("fast"))
    m(torch.rand(1, 1, 16, 32, 32))
    assert seen == {"slow": 16 // m.backbone.alpha, "fast": 16}


def test_a_frame_only_the_fast_pathway_sees_still_changes_the_slow_features_through_the_laterals():
    m = _model().eval()
    x = torch.rand(1, 1, 16, 32, 32)
    y = x.clone()
    y[:, :, 1] += 1.0  # frame 1: not one of the slow pathway's frames (0, 4, 8, 12)
    with torch.no_grad():
        a, b = m.temporal_features(x), m.temporal_features(y)
    slow = slice(64, 256)
    assert not torch.allclose(a[:, slow], b[:, slow], atol=1e-5)
    m.backbone.laterals.apply(lambda mod: torch.nn.init.zeros_(mod.weight) if isinstance(mod, torch.nn.Conv3d) else None)
    with torch.no_grad():
        a, b = m.temporal_features(x), m.temporal_features(y)
    assert torch.allclose(a[:, slow], b[:, slow], atol=1e-6)  # without laterals the slow pathway cannot see it


def test_gradients_reach_both_pathways_and_the_laterals():
    m = _model("mstcn").train()
    out = m(torch.rand(2, 1, 16, 32, 32))
    (out["clip"].sum() + out["frame"].sum()).backward()
    for name in ("fast_stem", "slow_stem", "laterals", "fast_blocks", "slow_blocks"):
        grads = [p.grad for p in getattr(m.backbone, name).parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), name
        assert sum(g.abs().sum() for g in grads) > 0, name


def test_bad_alpha_or_widths_are_errors():
    with pytest.raises(ValueError, match="alpha"):
        TwoRate(1, alpha=0)
    with pytest.raises(ValueError, match="widths"):
        TwoRate(1, slow_widths=(8, 16), fast_widths=(4, 8, 16))


def test_train_and_evaluate_both_tasks_with_the_two_rate_model(tmp_path, segment_dir, train_cli):
    out = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", segment_dir, "--out", out, "--epochs", "1", "--val-fraction", "0",
                         "--model", "tiny3d_2rate", *train_cli.FAST) == 0
    meta = torch.load(out / "model.pt", weights_only=True)["meta"]
    assert meta["backbone"] == "tiny3d_2rate"
    for task in ("classify", "segment"):
        ev = tmp_path / f"{task}.json"
        assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", segment_dir, "--out", ev,
                             "--task", task, "--no-progress", "--json") == 0
        m = json.loads(ev.read_text())
        assert m["n_clips"] == 6 and (task == "classify" or 0 <= m["f1@25"] <= 1)
