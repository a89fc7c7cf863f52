"""AdaBN: batch-norm statistics re-estimated from target clips, weights untouched; and its windows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv3d(1, 2, 1), nn.BatchNorm3d(2), nn.Dropout(0.5), nn.Conv3d(2, 2, 1), nn.BatchNorm3d(2))


def test_statistics_are_the_targets_and_nothing_else_moves():
    from simgen.adapt.adabn import recompute_batch_norm

    model = _net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # two batches whose conv-1 outputs have known means: the input is constant per batch
    batches = [torch.full((3, 1, 2, 2, 2), 2.0), torch.full((3, 1, 2, 2, 2), 6.0)]
    adapted, seen = recompute_batch_norm(model, batches)
    assert seen == 2 and not adapted.training
    conv = model[0]
    per_batch = [conv(b).mean(dim=(0, 2, 3, 4)) for b in batches]
    assert torch.allclose(adapted[1].running_mean, (per_batch[0] + per_batch[1]) / 2, atol=1e-5)  # cumulative, not EMA
    assert not torch.allclose(adapted[1].running_mean, before["1.running_mean"])
    assert adapted[1].momentum == model[1].momentum == 0.1
    for k, v in adapted.state_dict().items():  # every weight as it was; the original model untouched
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, before[k]), k
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_no_batch_keeps_the_statistics():
    from simgen.adapt.adabn import recompute_batch_norm

    model = _net()
    model[1].running_mean.fill_(3.0)
    adapted, seen = recompute_batch_norm(model, [])
    assert seen == 0 and torch.equal(adapted[1].running_mean, model[1].running_mean)


def test_windows_cover_every_clip_at_the_models_rate():
    from simgen.adapt.adabn import clip_windows

    rng = np.random.default_rng(0)
    clips = [SimpleNamespace(frames=rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8), fps=25.0) for n in (8, 17, 4)]
    batches = clip_windows(clips, input_mode="diff", num_frames=4, stride=2, fps=25.0, batch_size=2)
    # windows of 4 frames 2 apart, as scoring reads them: 2 of 8 frames, 3 of 17, 1 (padded) of 4
    assert [tuple(b.shape) for b in batches] == [(2, 1, 4, 16, 16)] * 3
    again = clip_windows(clips, input_mode="diff", num_frames=4, stride=2, fps=25.0, batch_size=2)
    assert all(torch.equal(a, b) for a, b in zip(batches, again))  # seeded shuffle
    halved = clip_windows(clips, input_mode="diff", num_frames=4, stride=2, fps=12.5, batch_size=8)
    assert sum(len(b) for b in halved) == 4  # resampled to the model's rate first: 4, 8, 2 frames
    with pytest.raises(ValueError):
        clip_windows(clips, input_mode="nope", num_frames=4, stride=2, fps=25.0)
