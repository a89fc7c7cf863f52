import math
import pickle

import pytest
import torch
from torch import nn

from simgen.adapt.align import GradientReverseLayer, WarmStartCoefficient, reverse_gradient, step_reversal_schedules


class TestReverseGradient:
    def test_forward_is_identity(self):
        x = torch.randn(3, 4)
        torch.testing.assert_close(GradientReverseLayer(0.7)(x), x, rtol=0, atol=0)

    @pytest.mark.parametrize("coeff", [1.0, 0.3, 2.5])
    def test_backward_multiplies_by_minus_coeff(self, coeff):
        x = torch.randn(3, 4, requires_grad=True)
        upstream = torch.randn(3, 4)
        (GradientReverseLayer(coeff)(x) * upstream).sum().backward()
        torch.testing.assert_close(x.grad, -coeff * upstream)

    def test_layers_below_get_the_reversed_gradient_of_layers_above(self):
        below, above = nn.Linear(2, 2), nn.Linear(2, 1)
        x = torch.randn(5, 2)
        above(below(x)).sum().backward()
        plain = below.weight.grad.clone()
        below.zero_grad()
        above(reverse_gradient(below(x), 1.0)).sum().backward()
        torch.testing.assert_close(below.weight.grad, -plain)


class TestWarmStartCoefficient:
    def test_values_at_start_middle_end(self):
        sched = WarmStartCoefficient(alpha=10.0, lo=0.0, hi=1.0, max_iters=100)
        # Ganin & Lempitsky: 2 / (1 + exp(-10 p)) - 1
        assert sched(0) == 0.0
        assert sched(50) == pytest.approx(2 / (1 + math.exp(-5)) - 1, abs=1e-12)  # 0.98661
        assert sched(50) == pytest.approx(0.986614, abs=1e-6)
        assert sched(100) == pytest.approx(0.999909, abs=1e-6)
        assert sched(10_000) == sched(100)  # p is clamped at 1

    def test_lo_hi_rescale(self):
        sched = WarmStartCoefficient(alpha=10.0, lo=0.2, hi=0.6, max_iters=10)
        assert sched(0) == pytest.approx(0.2)
        assert sched(5) == pytest.approx(0.2 + 0.4 * 0.986614, abs=1e-6)

    def test_rejects_non_positive_max_iters(self):
        with pytest.raises(ValueError, match="max_iters"):
            WarmStartCoefficient(max_iters=0)


class TestScheduledLayer:
    def test_coefficient_follows_schedule_and_state_dict(self):
        grl = GradientReverseLayer(WarmStartCoefficient(max_iters=10))
        x = torch.ones(2, requires_grad=True)
        grl(x).sum().backward()
        assert x.grad.abs().sum() == 0  # coefficient 0 at iteration 0
        for _ in range(5):
            grl.step()
        x.grad = None
        grl(x).sum().backward()
        torch.testing.assert_close(x.grad, torch.full((2,), -(2 / (1 + math.exp(-5)) - 1)))
        restored = GradientReverseLayer(WarmStartCoefficient(max_iters=10))
        restored.load_state_dict(grl.state_dict())
        assert int(restored.iteration) == 5 and restored.coeff == grl.coeff

    def test_step_all_steps_shared_layer_once(self):
        shared = GradientReverseLayer(WarmStartCoefficient(max_iters=10))
        model = nn.ModuleDict(dict(a=shared, b=nn.Sequential(shared), c=GradientReverseLayer(1.0)))
        assert step_reversal_schedules(model) == 2
        assert int(shared.iteration) == 1

    def test_constant_layer_pickles(self):
        grl = pickle.loads(pickle.dumps(GradientReverseLayer(0.4)))
        assert grl.coeff == 0.4
