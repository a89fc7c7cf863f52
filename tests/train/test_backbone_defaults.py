"""Per-backbone optimisation defaults: complete, used only where the user gave nothing, recorded."""

import argparse
import json

import pytest
import torch
import yaml

from simgen.pipelines import train_commands
from simgen.train.config import BACKBONE_DEFAULTS, TrainConfig
from simgen.train.fit import _lr_lambda, warmup_steps
from simgen.train.models.builder import BACKBONES

KEYS = {"lr", "weight_decay", "batch_size", "warmup_epochs"}


def test_every_backbone_has_every_default():
    assert set(BACKBONE_DEFAULTS) == set(BACKBONES)
    for name, d in BACKBONE_DEFAULTS.items():
        assert set(d) == KEYS, name
        TrainConfig(out="x", model=name, **d)  # each value passes the field's own validation


@pytest.mark.parametrize("model", sorted(BACKBONE_DEFAULTS))
def test_defaults_fill_only_what_is_missing(model):
    cfg, defaulted = TrainConfig(out="x", model=model, lr=0.123).with_backbone_defaults()
    assert cfg.lr == 0.123 and defaulted == ["batch_size", "warmup_epochs", "weight_decay"]
    for k in defaulted:
        assert getattr(cfg, k) == BACKBONE_DEFAULTS[model][k]
    given = TrainConfig(out="x", model=model, lr=1.0, weight_decay=0.0, batch_size=3, warmup_epochs=0.5)
    again, none = given.with_backbone_defaults()
    assert none == [] and again == given


def test_big_nets_get_a_lower_rate_than_tiny3d():
    # the reason the table exists: r3d_18 at tiny3d's 3e-3 did not learn
    for name in ("tsm_r18", "r3d_18", "mc3_18", "r2plus1d_18", "s3d"):
        assert BACKBONE_DEFAULTS[name]["lr"] < BACKBONE_DEFAULTS["tiny3d"]["lr"]
        assert BACKBONE_DEFAULTS[name]["warmup_epochs"] > BACKBONE_DEFAULTS["tiny3d"]["warmup_epochs"]


@pytest.mark.parametrize("epochs,per_epoch,total,expected", [
    (1.0, 22, 1760, 22),   # tiny3d over 80 epochs: one epoch
    (3.0, 11, 880, 33),    # r3d_18: three epochs
    (3.0, 11, 22, 3),      # a 2-epoch run: capped at a tenth (+1)
    (0.0, 10, 100, 1),     # never zero (the first step would get lr 0/0)
])
def test_warmup_steps(epochs, per_epoch, total, expected):
    assert warmup_steps(epochs, per_epoch, total) == expected


def test_schedule_rises_linearly_then_decays():
    f = _lr_lambda(100, 10)
    assert [round(f(s), 2) for s in (0, 4, 9)] == [0.1, 0.5, 1.0]
    assert f(10) == pytest.approx(1.0) and f(55) == pytest.approx(0.5) and f(100) == pytest.approx(0.0)


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="simgen")
    train_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def test_run_records_the_values_used_and_where_they_came_from(synthetic_dir, tmp_path):
    out = tmp_path / "run"
    assert _cli("train", "--synthetic", synthetic_dir, "--out", out, "--size", "32", "--num-frames", "8",
                "--stride", "1", "--batch-size", "4", "--epochs", "1", "--no-progress") == 0
    text = (out / "config.yaml").read_text()
    assert text.startswith("# from the tiny3d defaults") and "lr, warmup_epochs, weight_decay" in text.splitlines()[0]
    cfg = yaml.safe_load(text)
    tiny = BACKBONE_DEFAULTS["tiny3d"]
    assert (cfg["lr"], cfg["weight_decay"], cfg["warmup_epochs"], cfg["batch_size"]) == (
        tiny["lr"], tiny["weight_decay"], tiny["warmup_epochs"], 4)
    expected = dict(lr=tiny["lr"], weight_decay=tiny["weight_decay"], batch_size=4, warmup_epochs=tiny["warmup_epochs"],
                    epochs=1, precision="fp32", from_backbone_defaults=["lr", "warmup_epochs", "weight_decay"])
    for name in ("model.pt", "last.pt", "best.pt"):
        assert torch.load(out / name, weights_only=True)["meta"]["optim"] == expected, name
    assert json.loads((out / "metrics.json").read_text())["optim"] == expected


def test_help_lists_the_per_backbone_defaults(capsys):
    with pytest.raises(SystemExit):
        _cli("train", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    for name, d in BACKBONE_DEFAULTS.items():
        assert f"{name} {d['lr']:g}/{d['warmup_epochs']:g}/{d['batch_size']}/{d['weight_decay']:g}" in help_text


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_every_backbone_trains_in_channels_last(backbone):
    # channels-last is the default; it used to raise on tsm_r18's 2-D convolutions
    from simgen.train.models import create_action_model
    from simgen.train.objective import TrainObjective
    from simgen.train.objectives.supervised import ClassificationLoss

    model = create_action_model(backbone=backbone, num_classes=3, input_mode="gray")
    objective = TrainObjective(model, augment=None, input_mode="gray", clip_loss=ClassificationLoss(),
                               channels_last=True)
    convs = [m for m in objective.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))]
    fmt = {4: torch.channels_last, 5: torch.channels_last_3d}
    assert convs and all(c.weight.is_contiguous(memory_format=fmt[c.weight.dim()]) for c in convs)
    if backbone in ("tiny3d", "tsm_r18"):
        loss, _ = objective(torch.randint(0, 255, (2, 8, 32, 32, 3), dtype=torch.uint8), torch.tensor([0, 1]),
                            torch.full((2, 8), -1))
        loss.backward()
