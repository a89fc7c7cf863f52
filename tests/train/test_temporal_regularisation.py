"""Temporal dropout, the consistency loss and MS-TCN's smoothing loss."""

import pytest
import torch

from simgen.train.models import TemporalDropout
from simgen.train.objectives.temporal import consistency_loss, truncated_mse


@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_feature_dropout_drops_that_share_of_whole_steps_and_rescales_the_rest(rate):
    drop = TemporalDropout(rate, "features").train()
    x = torch.ones(64, 8, 200)
    y = drop(x, generator=torch.Generator().manual_seed(0))
    dropped = (y == 0).all(1)  # every channel of a dropped step is zero
    assert ((y == 0).any(1) == dropped).all()
    assert dropped.float().mean().item() == pytest.approx(rate, abs=0.01)
    assert torch.allclose(y[~dropped.unsqueeze(1).expand_as(y)], torch.full((), 1 / (1 - rate)))


def test_frame_dropout_zeroes_whole_input_frames_unscaled():
    drop = TemporalDropout(0.3, "frames").train()
    x = torch.rand(16, 1, 50, 4, 4) + 0.5
    y = drop(x, generator=torch.Generator().manual_seed(1))
    dropped = (y == 0).flatten(3).all(-1)[:, 0]  # (B, T)
    assert dropped.float().mean().item() == pytest.approx(0.3, abs=0.04)
    kept = ~dropped
    assert torch.equal(y[:, 0][kept], x[:, 0][kept])


def test_dropout_is_off_at_evaluation_and_at_rate_zero():
    x = torch.rand(2, 3, 10)
    assert torch.equal(TemporalDropout(0.5).eval()(x), x)
    assert torch.equal(TemporalDropout(0.0).train()(x), x)
    with pytest.raises(ValueError, match="rate"):
        TemporalDropout(1.0)


def _logits(labels, k=3, scale=5.0):
    return torch.nn.functional.one_hot(torch.tensor(labels), k).float().t()[None] * scale


def test_consistency_loss_is_zero_for_constant_predictions_and_grows_with_flicker():
    assert float(consistency_loss(_logits([1] * 10))) == 0.0
    once = float(consistency_loss(_logits([1] * 5 + [2] + [1] * 4)))
    often = float(consistency_loss(_logits([1, 2] * 5)))
    assert 0 < once < often


def test_consistency_loss_leaves_out_pairs_across_a_labelled_boundary():
    pred = _logits([0] * 5 + [1] * 5)  # changes exactly where the truth changes
    assert float(consistency_loss(pred)) > 0
    assert float(consistency_loss(pred, torch.tensor([[0] * 5 + [1] * 5]))) == 0.0
    # an unknown label (-1) does not excuse a change
    assert float(consistency_loss(pred, torch.tensor([[0] * 5 + [-1] * 5]))) > 0


def test_truncated_mse_is_zero_when_steady_positive_on_a_change_and_capped_at_tau():
    assert float(truncated_mse(_logits([2] * 6))) == 0.0
    small = float(truncated_mse(_logits([2] * 3 + [0] * 3, scale=1.0)))
    big = float(truncated_mse(_logits([2] * 3 + [0] * 3, scale=100.0), tau=4.0))
    assert 0 < small < big
    # one changing pair of 6 -> 5 pairs x 3 classes; two classes move by more than tau: each capped at 16
    assert big == pytest.approx(2 * 16 / 15, rel=1e-4)


def test_truncated_mse_gradient_flows_only_through_the_later_frame():
    x = _logits([0, 1], scale=1.0).requires_grad_()
    truncated_mse(x).backward()
    assert x.grad[..., 0].abs().sum() == 0 and x.grad[..., 1].abs().sum() > 0
