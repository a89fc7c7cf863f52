import math

import numpy as np
import pytest
import torch

from simgen.adapt.align import CoralLoss, MultiKernelMMD, covariance

SQUARE = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])


class TestCoral:
    def test_zero_for_identical_sets(self):
        x = torch.randn(10, 4, generator=torch.Generator().manual_seed(0))
        assert CoralLoss()(x, x).item() == 0.0

    def test_hand_computed_two_d_case(self):
        # C_s = diag(4/3, 4/3); stretching x by 2 gives C_t = diag(16/3, 4/3):
        # ||C_s - C_t||_F^2 / (4 d^2) = 4^2 / 16 = 1
        stretched = SQUARE * torch.tensor([2.0, 1.0])
        torch.testing.assert_close(covariance(SQUARE), torch.eye(2) * 4 / 3)
        assert CoralLoss()(SQUARE, stretched).item() == pytest.approx(1.0, abs=1e-6)

    def test_covariance_matches_numpy(self):
        x = torch.randn(7, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        np.testing.assert_allclose(covariance(x).numpy(), np.cov(x.numpy(), rowvar=False), atol=1e-12)

    def test_ignores_mean_shift(self):
        assert CoralLoss()(SQUARE, SQUARE + 5.0).item() == pytest.approx(0.0, abs=1e-6)

    def test_frame_features_are_pooled_over_time(self):
        gen = torch.Generator().manual_seed(3)
        s, t = torch.randn(2, 3, 4, generator=gen), torch.randn(3, 3, 4, generator=gen)
        flat = lambda x: x.permute(0, 2, 1).reshape(-1, 3)  # noqa: E731
        torch.testing.assert_close(CoralLoss()(s, t), CoralLoss()(flat(s), flat(t)))

    def test_gradcheck(self):
        gen = torch.Generator().manual_seed(4)
        s = torch.randn(5, 3, dtype=torch.float64, generator=gen, requires_grad=True)
        t = torch.randn(6, 3, dtype=torch.float64, generator=gen, requires_grad=True)
        assert torch.autograd.gradcheck(CoralLoss(), (s, t))

    def test_needs_two_samples(self):
        with pytest.raises(ValueError, match="at least 2 samples"):
            CoralLoss()(torch.randn(1, 3), torch.randn(4, 3))


def shifted_pair(shift: float, n=24, dim=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=gen)
    return x, x + shift


class TestMultiKernelMMD:
    def test_biased_is_exactly_zero_for_identical_sets(self):
        x, _ = shifted_pair(0.0)
        assert MultiKernelMMD()(x, x).item() == pytest.approx(0.0, abs=1e-6)

    def test_hand_computed_single_points_fixed_bandwidth(self):
        # one point each at distance 1, bandwidth 1, multipliers (1, 2):
        # k_ss = k_tt = 1, k_st = (e^-1 + e^-1/2) / 2  ->  MMD^2 = 2 - (e^-1 + e^-1/2)
        mmd = MultiKernelMMD((1.0, 2.0), bandwidth=1.0)
        value = mmd(torch.tensor([[0.0]]), torch.tensor([[1.0]])).item()
        assert value == pytest.approx(2 - math.exp(-1) - math.exp(-0.5), abs=1e-6)

    def test_data_driven_bandwidth_is_mean_off_diagonal_squared_distance(self):
        # points 0 and 2: off-diagonal squared distances are 4, 4 -> bandwidth 4 -> k_st = e^-1
        value = MultiKernelMMD((1.0,))(torch.tensor([[0.0]]), torch.tensor([[2.0]])).item()
        assert value == pytest.approx(2 - 2 * math.exp(-1), abs=1e-6)

    def test_unbiased_hand_computed(self):
        # source {0, 1}, target {3}, {3, 4} with bandwidth 1, one kernel
        s, t = torch.tensor([[0.0], [1.0]]), torch.tensor([[3.0], [4.0]])
        k = lambda a, b: math.exp(-((a - b) ** 2))  # noqa: E731
        expected = k(0, 1) + k(3, 4) - 2 * (k(0, 3) + k(0, 4) + k(1, 3) + k(1, 4)) / 4
        assert MultiKernelMMD((1.0,), bandwidth=1.0, unbiased=True)(s, t).item() == pytest.approx(expected, abs=1e-6)
        biased = (2 + 2 * k(0, 1)) / 4 + (2 + 2 * k(3, 4)) / 4 - 2 * (k(0, 3) + k(0, 4) + k(1, 3) + k(1, 4)) / 4
        assert MultiKernelMMD((1.0,), bandwidth=1.0)(s, t).item() == pytest.approx(biased, abs=1e-6)

    def test_unbiased_is_zero_on_average_for_one_distribution(self):
        unbiased, biased = MultiKernelMMD(unbiased=True), MultiKernelMMD()
        gen = torch.Generator().manual_seed(5)
        pairs = [(torch.randn(16, 4, generator=gen), torch.randn(16, 4, generator=gen)) for _ in range(100)]
        mean_unbiased = np.mean([unbiased(a, b).item() for a, b in pairs])
        mean_biased = np.mean([biased(a, b).item() for a, b in pairs])
        assert abs(mean_unbiased) < 0.01 < mean_biased  # measured: -0.0031 (s.e. 0.0026) vs 0.066

    @pytest.mark.parametrize("unbiased", [False, True])
    def test_grows_with_the_shift(self, unbiased):
        mmd = MultiKernelMMD(unbiased=unbiased)
        values = [mmd(*shifted_pair(shift)).item() for shift in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)]
        assert all(b > a for a, b in zip(values, values[1:])), values
        assert values[-1] > 0.5

    def test_gradcheck_fixed_bandwidth(self):
        gen = torch.Generator().manual_seed(6)
        s = torch.randn(4, 3, dtype=torch.float64, generator=gen, requires_grad=True)
        t = torch.randn(5, 3, dtype=torch.float64, generator=gen, requires_grad=True)
        for unbiased in (False, True):
            assert torch.autograd.gradcheck(MultiKernelMMD((0.5, 1.0, 2.0), bandwidth=3.0, unbiased=unbiased), (s, t))

    def test_gradient_pulls_target_towards_source(self):
        x, y = shifted_pair(1.0)
        y = y.clone().requires_grad_()
        MultiKernelMMD()(x, y).backward()
        # y = x + 1: descending the loss moves y back, i.e. the gradient points along +1
        assert torch.isfinite(y.grad).all() and y.grad.sum() > 0

    def test_frame_features_are_pooled_over_time(self):
        gen = torch.Generator().manual_seed(7)
        s, t = torch.randn(2, 3, 4, generator=gen), torch.randn(2, 3, 4, generator=gen) + 1
        flat = lambda x: x.permute(0, 2, 1).reshape(-1, 3)  # noqa: E731
        torch.testing.assert_close(MultiKernelMMD()(s, t), MultiKernelMMD()(flat(s), flat(t)))

    def test_bad_settings_are_errors(self):
        with pytest.raises(ValueError, match="bandwidth_multipliers"):
            MultiKernelMMD((0.0, 1.0))
        with pytest.raises(ValueError, match="at least 2 samples"):
            MultiKernelMMD(unbiased=True)(torch.randn(1, 3), torch.randn(3, 3))
