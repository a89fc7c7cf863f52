"""The ``selfsup`` method's pretext losses: only a batch's real clips feed them, and they train the
backbone and their own heads."""

from __future__ import annotations

import pytest
import torch

from simgen.adapt.benchmark.pretext import RealPretextLoss
from simgen.train.inputs import InputTransform
from simgen.train.models import create_action_model


def _setup():
    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff")
    return model, RealPretextLoss(model.out_features), InputTransform("diff")


def test_a_batch_without_real_clips_adds_nothing():
    model, pretext, encode = _setup()
    loss, stats = pretext(model, torch.rand(3, 3, 12, 32, 32), torch.zeros(3, dtype=torch.long), encode)
    assert float(loss) == 0.0 and stats == {}


def test_only_the_real_clips_reach_the_tasks(monkeypatch):
    model, pretext, encode = _setup()
    seen = []
    for name, task in pretext.tasks.items():
        original = task.forward

        def spy(m, video, *, encode, generator=None, _original=original, _name=name):
            seen.append((_name, video.shape[0], float(video[:, 0, 0, 0, 0].sum())))
            return _original(m, video, encode=encode, generator=generator)

        monkeypatch.setattr(task, "forward", spy)
    video = torch.rand(4, 3, 12, 32, 32)
    video[:, 0, 0, 0, 0] = torch.tensor([10.0, 20.0, 30.0, 40.0])  # tags: which clips a task was given
    domain = torch.tensor([0, 1, 0, 1])
    pretext(model, video, domain, encode, generator=torch.Generator().manual_seed(0))
    assert sorted(n for n, _, _ in seen) == ["order", "speed"]
    assert all(b == 2 and tag == pytest.approx(60.0) for _, b, tag in seen)  # clips 1 and 3 only


def test_the_losses_train_the_backbone_and_the_task_heads():
    model, pretext, encode = _setup()
    video, domain = torch.rand(4, 3, 12, 32, 32), torch.tensor([1, 1, 1, 1])
    loss, stats = pretext(model, video, domain, encode, generator=torch.Generator().manual_seed(1))
    assert float(loss.detach()) > 0 and set(stats) == {"loss_order", "acc_order", "loss_speed", "acc_speed"}
    assert float(loss.detach()) == pytest.approx(0.5 * (stats["loss_order"] + stats["loss_speed"]), rel=1e-5)
    loss.backward()
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    for task in pretext.tasks.values():
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in task.head.parameters())
    assert all(p.grad is None for p in model.clip_head.parameters())  # no label was used


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown pretext task"):
        RealPretextLoss(8, tasks=("order", "jigsaw"))
