"""Gap metrics on hand-made feature sets: identical and same-distribution sets give ~0, a shifted set
more, and every bootstrap interval covers its estimate."""

import numpy as np
import pytest

from simgen.adapt.calibrate.distances import (
    domain_classifier_outcomes,
    feature_gap,
    fit_logistic,
    histogram_gap,
    mmd_squared_from_indices,
    percentile_interval,
    scalar_gap,
)


def _sets(shift: float, n: int = 80, m: int = 30, dims: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dims)), rng.normal(size=(m, dims)) + shift


def _covers(entry) -> bool:
    lo, hi = entry["ci95"]
    return lo <= entry["value"] <= hi


class TestFeatureGap:
    def test_identical_sets_are_zero(self):
        x, _ = _sets(0.0)
        gap = feature_gap(x, x.copy(), np.random.default_rng(1), resamples=50)
        assert gap["frechet_distance"]["value"] == pytest.approx(0.0, abs=1e-6)
        assert abs(gap["mmd"]["value"]) < 0.02
        # the classifier sees the same points under both labels: it cannot beat a coin
        assert gap["proxy_a_distance"]["value"] == pytest.approx(0.0, abs=0.1)

    def test_same_distribution_is_near_zero_and_shift_is_far(self):
        rng = np.random.default_rng(2)
        same = feature_gap(*_sets(0.0), rng, resamples=100)
        shifted = feature_gap(*_sets(1.0), rng, resamples=100)
        assert abs(same["proxy_a_distance"]["value"]) < 0.5
        assert same["mmd"]["ci95"][0] <= 0.0 <= same["mmd"]["ci95"][1]
        assert shifted["proxy_a_distance"]["value"] > 1.0
        assert shifted["proxy_a_distance"]["classifier_accuracy"] > 0.75
        for name in ("frechet_distance", "mmd", "proxy_a_distance"):
            # the shifted set's interval lies above the same-distribution estimate
            assert shifted[name]["ci95"][0] > same[name]["value"], name

    def test_a_larger_shift_is_a_larger_distance(self):
        rng = np.random.default_rng(3)
        small, large = feature_gap(*_sets(0.5), rng, resamples=20), feature_gap(*_sets(1.5), rng, resamples=20)
        assert large["frechet_distance"]["value"] > 2 * small["frechet_distance"]["value"]
        assert large["mmd"]["value"] > small["mmd"]["value"]

    @pytest.mark.parametrize("shift", [0.0, 0.7])
    def test_bootstrap_intervals_cover_the_estimates_and_report_sizes(self, shift):
        gap = feature_gap(*_sets(shift), np.random.default_rng(4), resamples=200)
        for name in ("frechet_distance", "mmd", "proxy_a_distance"):
            assert _covers(gap[name]), (name, gap[name])
        assert gap["mmd"]["n"] == {"synthetic": 80, "real": 30}
        assert gap["proxy_a_distance"]["n"]["per_domain"] == 30

    def test_same_seed_same_numbers(self):
        a = feature_gap(*_sets(0.5), np.random.default_rng(5), resamples=30)
        b = feature_gap(*_sets(0.5), np.random.default_rng(5), resamples=30)
        assert a["proxy_a_distance"] == b["proxy_a_distance"] and a["mmd"]["ci95"] == b["mmd"]["ci95"]


def test_intervals_cover_the_true_value_in_most_repeats():
    """Calibration, not just "covers its own estimate": over repeated draws of two same-distribution
    sets (true MMD² 0, true mean difference 0) the 95% intervals hold the truth most of the time."""
    mmd_hits, diff_hits, repeats = 0, 0, 40
    for r in range(repeats):
        rng = np.random.default_rng(100 + r)
        x, y = rng.normal(size=(40, 3)), rng.normal(size=(20, 3))
        lo, hi = feature_gap(x, y, rng, resamples=100)["mmd"]["ci95"]
        mmd_hits += lo <= 0.0 <= hi
        lo, hi = scalar_gap(list(x[:, 0]), list(y[:, 0]), rng, resamples=100)["difference"]["ci95"]
        diff_hits += lo <= 0.0 <= hi
    assert mmd_hits >= 0.8 * repeats and diff_hits >= 0.8 * repeats, (mmd_hits, diff_hits)


def test_resampled_mmd_leaves_out_pairs_of_one_sample():
    """A bootstrap resample repeats samples; a repeat is not a pair of distinct samples. Counting it
    as one pushes every resampled MMD² of two same-distribution sets above zero."""
    rng = np.random.default_rng(6)
    pooled = rng.normal(size=(60, 4))
    kernel = np.exp(-((pooled[:, None] - pooled[None]) ** 2).sum(-1) / 8.0)
    boot = [mmd_squared_from_indices(kernel, rng.integers(0, 30, 30), 30 + rng.integers(0, 30, 30)) for _ in range(300)]
    assert abs(np.median(boot)) < 0.02
    # no repeats: the plain unbiased estimate
    ix, iy = np.arange(30), np.arange(30, 60)
    kxx = kernel[np.ix_(ix, ix)]
    kyy = kernel[np.ix_(iy, iy)]
    expected = (kxx.sum() - 30) / (30 * 29) + (kyy.sum() - 30) / (30 * 29) - 2 * kernel[np.ix_(ix, iy)].mean()
    assert mmd_squared_from_indices(kernel, ix, iy) == pytest.approx(expected)


def test_logistic_regression_separates_separable_data():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    t = np.r_[np.zeros(20), np.ones(20)]
    w = fit_logistic(x, t)
    assert (((np.c_[x, np.ones(40)] @ w) > 0) == (t > 0.5)).mean() == 1.0
    right = domain_classifier_outcomes(x[:20], x[20:], rng)
    assert right.mean() == 1.0


class TestScalarGap:
    def test_difference_of_means_and_wasserstein(self):
        gap = scalar_gap([1.0, 2.0, 3.0, None], [4.0, 5.0, 6.0], np.random.default_rng(0), resamples=100)
        assert gap["difference"]["value"] == pytest.approx(3.0)
        assert gap["wasserstein"]["value"] == pytest.approx(3.0)
        assert gap["n"] == {"synthetic": 3, "real": 3, "undefined": {"synthetic": 1, "real": 0}}
        assert _covers(gap["difference"]) and _covers(gap["wasserstein"])
        assert gap["difference"]["ci95"][0] > 0  # every resample of these two sets differs by at least 1

    def test_undefined_everywhere_gives_sizes_only(self):
        gap = scalar_gap([None, None], [1.0], np.random.default_rng(0))
        assert "difference" not in gap and gap["n"]["synthetic"] == 0


def test_histogram_gap_zero_for_equal_one_for_disjoint():
    a = np.zeros((4, 3, 8))
    a[:, :, 0] = 1.0
    b = np.zeros((5, 3, 8))
    b[:, :, 7] = 1.0
    rng = np.random.default_rng(0)
    assert histogram_gap(a, a.copy(), rng, resamples=10)["value"] == pytest.approx(0.0, abs=1e-9)
    assert histogram_gap(a, b, rng, resamples=10)["value"] == pytest.approx(1.0)


def test_percentile_interval_ignores_undefined_values():
    assert percentile_interval([1.0, float("nan"), 3.0], level=1.0) == [1.0, 3.0]
