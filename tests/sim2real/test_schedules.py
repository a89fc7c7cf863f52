"""Fine-tuning schedules: which layers train, when, and at what learning rate."""

from __future__ import annotations

import pytest
import torch

from simgen.adapt.benchmark.methods import _Schedule, _freeze_norm_of_frozen, layer_groups
from simgen.train.models import create_action_model


def _model():
    torch.manual_seed(0)
    return create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff")


def _step(model, schedule, step):
    schedule.apply(step)
    model.train()
    _freeze_norm_of_frozen(model)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    stats = {n: b.detach().clone() for n, b in model.named_buffers() if "running_mean" in n}
    out = model(torch.randn(2, 1, 8, 32, 32))
    loss = torch.nn.functional.cross_entropy(out["clip"], torch.tensor([0, 1]))
    schedule.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    schedule.optimizer.step()
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    stats_moved = {n for n, b in model.named_buffers() if "running_mean" in n and not torch.equal(b, stats[n])}
    return moved, stats_moved


def test_layer_groups_run_from_the_head_down():
    model = _model()
    groups = layer_groups(model)
    assert groups[0] == list(model.clip_head.parameters())
    assert groups[-1] == list(model.backbone.stem.parameters())
    assert len(groups) == 1 + 1 + len(model.backbone.blocks)


def test_head_only_moves_the_head_and_keeps_the_backbone_statistics():
    model = _model()
    moved, stats = _step(model, _Schedule(model, "head", 10, 1e-2, 0.5), 0)
    assert moved and all(n.startswith("clip_head.") for n in moved)
    assert not stats  # frozen batch-norm layers keep their running statistics


def test_gradual_unfreezing_adds_one_stage_at_a_time():
    model = _model()
    schedule = _Schedule(model, "gradual", 10, 1e-2, 0.5)
    assert len(layer_groups(model)) == 5  # head, 3 blocks, stem: one more every 10 / 5 = 2 steps
    assert [schedule.trainable(s) for s in (0, 1, 2, 5, 9)] == [1, 1, 2, 3, 5]
    moved0, _ = _step(model, schedule, 0)
    assert all(n.startswith("clip_head.") for n in moved0)
    moved9, _ = _step(model, schedule, 9)
    assert any(n.startswith("backbone.stem.") for n in moved9)


def test_discriminative_rates_halve_per_stage_down():
    model = _model()
    schedule = _Schedule(model, "discriminative", 10, 1e-2, 0.5)
    rates = [g["lr"] for g in schedule.optimizer.param_groups]
    assert rates == pytest.approx([1e-2 * 0.5 ** k for k in range(len(layer_groups(model)))])
    moved, _ = _step(model, schedule, 0)
    assert any(n.startswith("backbone.stem.") for n in moved) and any(n.startswith("clip_head.") for n in moved)
