import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from simgen.adapt.align import DomainAdversarialLoss, DomainDiscriminator, GradientReverseLayer, split_by_domain


def first_coordinate_discriminator(dim: int, scale: float) -> nn.Linear:
    """Logit of "real" = scale * feature[0]."""
    disc = nn.Linear(dim, 1, bias=False)
    with torch.no_grad():
        disc.weight.zero_()
        disc.weight[0, 0] = scale
    return disc


def separated(n_s=3, n_t=4, dim=3, gap=5.0):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(n_s, dim, generator=gen)
    t = torch.randn(n_t, dim, generator=gen)
    s[:, 0], t[:, 0] = -gap, gap
    return s, t


class Squeeze(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x).squeeze(-1)


class TestDomainAdversarialLoss:
    def test_perfect_discriminator_gives_near_zero_loss(self):
        s, t = separated()
        loss_fn = DomainAdversarialLoss(Squeeze(first_coordinate_discriminator(3, 4.0)))
        loss = loss_fn(s, t)
        assert loss.item() < 1e-8  # logits +-20: softplus(-20) = 2e-9
        assert loss_fn.accuracy.item() == 1.0

    def test_inverted_discriminator_gives_large_loss(self):
        s, t = separated()
        loss_fn = DomainAdversarialLoss(Squeeze(first_coordinate_discriminator(3, -4.0)))
        assert loss_fn(s, t).item() == pytest.approx(20.0, abs=1e-6)
        assert loss_fn.accuracy.item() == 0.0

    def test_each_domain_averaged_on_its_own(self):
        # logits: source 1 (wrong side), targets 1 (right side); 1 source vs 3 targets
        s = torch.tensor([[0.25, 0.0]])
        t = torch.tensor([[0.25, 0.0], [0.25, 0.0], [0.25, 0.0]])
        loss = DomainAdversarialLoss(Squeeze(first_coordinate_discriminator(2, 4.0)))(s, t)
        expected = 0.5 * (F.softplus(torch.tensor(1.0)) + F.softplus(torch.tensor(-1.0)))
        assert loss.item() == pytest.approx(expected.item(), abs=1e-6)

    def test_chance_discriminator_gives_log_two(self):
        s, t = separated()
        assert DomainAdversarialLoss(Squeeze(first_coordinate_discriminator(3, 0.0)))(s, t).item() == pytest.approx(math.log(2))

    def test_gradient_reversal_flips_feature_gradient_only(self):
        s, t = separated()
        disc = DomainDiscriminator(3, hidden=8)
        grads = {}
        for name, grl in (("plain", nn.Identity()), ("reversed", GradientReverseLayer(1.0)), ("half", GradientReverseLayer(0.5))):
            fs, ft = s.clone().requires_grad_(), t.clone().requires_grad_()
            disc.zero_grad()
            DomainAdversarialLoss(disc, grl)(fs, ft).backward()
            grads[name] = (fs.grad, ft.grad, disc.net[0].weight.grad.clone())
        assert grads["plain"][0].abs().sum() > 0
        for i in (0, 1):
            torch.testing.assert_close(grads["reversed"][i], -grads["plain"][i])
            torch.testing.assert_close(grads["half"][i], -0.5 * grads["plain"][i])
        # the discriminator itself still descends its own loss
        torch.testing.assert_close(grads["reversed"][2], grads["plain"][2])

    def test_frame_level_treats_each_time_step_as_a_sample(self):
        gen = torch.Generator().manual_seed(1)
        s, t = torch.randn(2, 3, 5, generator=gen), torch.randn(3, 3, 5, generator=gen)
        disc = DomainDiscriminator(3, hidden=8)
        loss_fn = DomainAdversarialLoss(disc)
        rows_s = torch.stack([s[b, :, k] for b in range(2) for k in range(5)])
        rows_t = torch.stack([t[b, :, k] for b in range(3) for k in range(5)])
        torch.testing.assert_close(loss_fn(s, t), loss_fn(rows_s, rows_t))

    def test_discriminator_learns_to_separate_shifted_domains(self):
        torch.manual_seed(0)
        s, t = separated(16, 16, 3, gap=1.0)
        loss_fn = DomainAdversarialLoss(DomainDiscriminator(3, hidden=16))
        opt = torch.optim.Adam(loss_fn.parameters(), lr=1e-2)
        first = loss_fn(s, t).item()
        for _ in range(100):
            opt.zero_grad()
            loss = loss_fn(s, t)
            loss.backward()
            opt.step()
        assert loss.item() < 0.1 < first and loss_fn.accuracy.item() == 1.0

    def test_mismatched_feature_sizes_are_an_error(self):
        with pytest.raises(ValueError, match="feature sizes differ"):
            DomainAdversarialLoss(DomainDiscriminator(3))(torch.randn(2, 3), torch.randn(2, 4))
        with pytest.raises(ValueError, match=r"\(N, D\) or frame features"):
            DomainAdversarialLoss(DomainDiscriminator(3))(torch.randn(3), torch.randn(2, 3))


def test_split_by_domain():
    f = torch.arange(8.0).view(4, 2)
    s, t = split_by_domain(f, torch.tensor([1, 0, 0, 1]))
    assert s.tolist() == [[2.0, 3.0], [4.0, 5.0]] and t.tolist() == [[0.0, 1.0], [6.0, 7.0]]
