import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from simgen.adapt.align import (
    GradientReverseLayer,
    AttentiveEntropyLoss,
    TemporalAttentiveAlignment,
    binary_entropy_from_logits,
    domain_attention,
)

LN2 = math.log(2)


class FirstCoordinate(nn.Module):
    """A fixed discriminator: logit of "real" = feature[0]."""

    def forward(self, x):
        return x[:, 0]


def with_fixed_frame_discriminator(dim=2):
    ta3n = TemporalAttentiveAlignment(dim, hidden=4)
    ta3n.frame_loss.discriminator = FirstCoordinate()
    return ta3n


class TestEntropyAndAttention:
    def test_binary_entropy_values(self):
        h = binary_entropy_from_logits(torch.tensor([0.0, 40.0, -40.0, 1e4, -1e4]))
        assert h[0].item() == pytest.approx(LN2)
        assert torch.isfinite(h).all() and h[1:].max().item() < 1e-15
        p = torch.sigmoid(torch.tensor(1.5))
        assert binary_entropy_from_logits(torch.tensor(1.5)).item() == pytest.approx(
            (-p * p.log() - (1 - p) * (1 - p).log()).item(), abs=1e-6)

    def test_attention_is_highest_for_confident_domain_predictions(self):
        # TA3N weights 1 + (1 - H(d)): a frame the discriminator is sure about carries the
        # largest domain gap and gets the most weight
        w = domain_attention(torch.tensor([0.0, 1.0, 3.0, -3.0, 30.0]))
        assert w[0].item() == pytest.approx(2 - LN2)
        assert w[4].item() == pytest.approx(2.0)
        assert w[0] < w[1] < w[2] < w[4] and w[2] == pytest.approx(w[3].item())


class TestTemporalAttentiveAlignment:
    def test_attentive_pooling_hand_computed(self):
        ta3n = with_fixed_frame_discriminator()
        # one clip, 3 frames: frame 0 is ambiguous (feature[0] = 0), frames 1-2 clearly real (20)
        frames = torch.tensor([[[0.0, 20.0, 20.0], [3.0, 0.0, 6.0]]])  # (B=1, D=2, T=3)
        pooled, attention, logits = ta3n.pool(frames)
        w0, w_sure = 2 - LN2, 2 - binary_entropy_from_logits(torch.tensor(20.0)).item()
        torch.testing.assert_close(attention, torch.tensor([[w0, w_sure, w_sure]]))
        expected = torch.tensor([[(20 * w_sure * 2) / 3, (3 * w0 + 6 * w_sure) / 3]])
        torch.testing.assert_close(pooled, expected)

    def test_loss_is_frame_plus_clip_domain_loss(self):
        ta3n = with_fixed_frame_discriminator()
        gen = torch.Generator().manual_seed(0)
        s, t = torch.randn(2, 2, 3, generator=gen), torch.randn(3, 2, 3, generator=gen)
        out = ta3n(s, t)
        frame = 0.5 * (F.softplus(s[:, 0]).mean() + F.softplus(-t[:, 0]).mean())
        clip = ta3n.clip_loss(out["source_clip"], out["target_clip"])
        torch.testing.assert_close(out["loss"], frame + clip)
        assert out["source_attention"].shape == (2, 3) and out["target_clip"].shape == (3, 2)

    def test_gradients_reach_features_and_both_discriminators(self):
        gen = torch.Generator().manual_seed(1)
        s, t = torch.randn(2, 4, 5, generator=gen), torch.randn(2, 4, 5, generator=gen)
        ta3n = TemporalAttentiveAlignment(4, hidden=8)
        fs = s.clone().requires_grad_()
        ta3n(fs, t)["loss"].backward()
        assert fs.grad.abs().sum() > 0
        assert ta3n.frame_loss.discriminator.net[0].weight.grad.abs().sum() > 0
        assert ta3n.clip_loss.discriminator.net[0].weight.grad.abs().sum() > 0

    def test_every_path_to_the_features_passes_a_reversal_layer(self):
        # coefficient 0 on both layers: the discriminators still learn, the features get nothing
        gen = torch.Generator().manual_seed(1)
        s, t = torch.randn(2, 4, 5, generator=gen), torch.randn(2, 4, 5, generator=gen)
        ta3n = TemporalAttentiveAlignment(4, hidden=8, frame_grl=GradientReverseLayer(0.0),
                                          clip_grl=GradientReverseLayer(0.0))
        fs, ft = s.clone().requires_grad_(), t.clone().requires_grad_()
        ta3n(fs, ft)["loss"].backward()
        assert fs.grad.abs().sum() == 0 and ft.grad.abs().sum() == 0
        assert ta3n.frame_loss.discriminator.net[0].weight.grad.abs().sum() > 0

    def test_needs_frame_features(self):
        with pytest.raises(ValueError, match=r"\(B, D, T\)"):
            TemporalAttentiveAlignment(4)(torch.randn(2, 4), torch.randn(2, 4))


class TestAttentiveEntropy:
    def test_hand_computed_value(self):
        # uniform class prediction (H = ln 2) on a coin-flip domain (weight 1 + ln 2)
        loss = AttentiveEntropyLoss()(torch.zeros(1, 2), torch.zeros(1))
        assert loss.item() == pytest.approx((1 + LN2) * LN2)

    def test_uncertain_domain_weighs_more(self):
        w = AttentiveEntropyLoss.weights(torch.tensor([0.0, 2.0, 30.0]))
        assert w[0].item() == pytest.approx(1 + LN2) and w[2].item() == pytest.approx(1.0)
        assert w[0] > w[1] > w[2]
        logits = torch.tensor([[0.3, -0.2, 0.1]])
        assert AttentiveEntropyLoss()(logits, torch.tensor([0.0])) > AttentiveEntropyLoss()(logits, torch.tensor([30.0]))

    def test_detached_weights_leave_the_domain_branch_alone(self):
        class_logits = torch.tensor([[0.3, -0.2]], requires_grad=True)
        domain_logits = torch.tensor([0.5], requires_grad=True)
        AttentiveEntropyLoss()(class_logits, domain_logits).backward()
        assert domain_logits.grad is None and class_logits.grad.abs().sum() > 0
        AttentiveEntropyLoss(detach_weights=False)(class_logits, domain_logits).backward()
        assert domain_logits.grad.abs().sum() > 0

    def test_gradcheck(self):
        gen = torch.Generator().manual_seed(2)
        c = torch.randn(3, 4, dtype=torch.float64, generator=gen, requires_grad=True)
        d = torch.randn(3, dtype=torch.float64, generator=gen, requires_grad=True)
        assert torch.autograd.gradcheck(AttentiveEntropyLoss(detach_weights=False), (c, d))
