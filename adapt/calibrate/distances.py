"""Distances between two sets of clip features, and the bootstrap that gives each its interval.

* :func:`frechet_distance`: Fréchet (FID-style) distance between Gaussians fitted to the two sets,
  after z-scoring with the pooled statistics and projecting onto the pooled set's first principal
  components (at most ``n_small - 1``: a covariance of 20 clips has no more directions).
* :func:`mmd_squared`: unbiased MMD² (Gretton et al., JMLR 2012, eq. 3) with a Gaussian kernel
  ``k(x, y) = exp(-||x - y||² / s²)``, ``s²`` the median squared distance between pooled z-scored
  features (the median heuristic), fixed once per report so that every bin is measured alike.
* :func:`proxy_a_distance`: ``2 (1 - 2 ε)`` (Ben-David et al., NeurIPS 2006) with ε the
  cross-validated error of an L2 logistic regression telling the domains apart, on balanced
  subsamples (otherwise "always synthetic" would score 91% on 200 vs 20).

Every random choice draws from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

#: bootstrap resamples for the report's headline numbers
BOOTSTRAP = 200
#: principal components kept for the Fréchet distance and the domain classifier
MAX_COMPONENTS = 16


def standardise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets z-scored with the pooled mean and standard deviation (constant columns left at 0)."""
    pooled = np.concatenate([x, y])
    mean, std = pooled.mean(0), pooled.std(0)
    std[std < 1e-12] = 1.0
    return (x - mean) / std, (y - mean) / std


def pooled_components(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """float[D, k]: the first ``k`` principal directions of the pooled (already centred-ish) sets."""
    pooled = np.concatenate([x, y])
    pooled = pooled - pooled.mean(0)
    _, _, vt = np.linalg.svd(pooled, full_matrices=False)
    return vt[:k].T


def frechet_from_moments(mu1, cov1, mu2, cov2) -> float:
    covmean = linalg.sqrtm(cov1 @ cov2)
    if not np.isfinite(covmean).all():  # near-singular product: nudge both, as the FID reference does
        offset = np.eye(len(cov1)) * 1e-6
        covmean = linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    covmean = np.real(covmean)
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


def frechet_distance(x: np.ndarray, y: np.ndarray, components: np.ndarray) -> float:
    """Fréchet distance between ``x @ components`` and ``y @ components`` (both float[N, D], z-scored)."""
    a, b = x @ components, y @ components
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    return frechet_from_moments(a.mean(0), cov_a, b.mean(0), cov_b)


def squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T, 0.0)


def median_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Median squared distance between distinct pooled samples (the median heuristic)."""
    pooled = np.concatenate([x, y])
    d = squared_distances(pooled, pooled)
    off = d[~np.eye(len(pooled), dtype=bool)]
    value = float(np.median(off)) if off.size else 1.0
    return value if value > 0 else 1.0


def mmd_squared_from_kernel(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    """Unbiased MMD² from kernel blocks (diagonals of kxx, kyy left out). Its mean is 0 when both sets
    come from one distribution, so single values may be slightly negative."""
    n, m = len(kxx), len(kyy)
    if n < 2 or m < 2:
        return float("nan")
    xx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(xx + yy - 2.0 * kxy.mean())


def mmd_squared_from_indices(kernel: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> float:
    """Unbiased MMD² between the samples ``ix`` and ``iy`` (rows of the pooled ``kernel``).

    Pairs that are the same original sample are left out of the within-set means, not only the
    diagonal: a bootstrap resample repeats samples, and counting a repeat as a pair of distinct
    samples (kernel value 1) would push every resampled value up, so the interval would miss the estimate.
    """
    ix, iy = np.asarray(ix), np.asarray(iy)
    if len(np.unique(ix)) < 2 or len(np.unique(iy)) < 2:
        return float("nan")
    distinct_x = ix[:, None] != ix[None, :]
    distinct_y = iy[:, None] != iy[None, :]
    xx = kernel[np.ix_(ix, ix)][distinct_x].mean()
    yy = kernel[np.ix_(iy, iy)][distinct_y].mean()
    return float(xx + yy - 2.0 * kernel[np.ix_(ix, iy)].mean())


def gaussian_kernel(x: np.ndarray, y: np.ndarray, bandwidth: float) -> np.ndarray:
    return np.exp(-squared_distances(x, y) / bandwidth)


def mmd_squared(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    return mmd_squared_from_kernel(gaussian_kernel(x, x, bandwidth), gaussian_kernel(y, y, bandwidth),
                                   gaussian_kernel(x, y, bandwidth))


def fit_logistic(x: np.ndarray, t: np.ndarray, l2: float = 1.0, steps: int = 25) -> np.ndarray:
    """Weights (bias last) of an L2-regularised logistic regression, by Newton's method."""
    a = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    w = np.zeros(a.shape[1])
    reg = np.full(a.shape[1], l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (p - t) + reg * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def domain_classifier_outcomes(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, folds: int = 5,
                               repeats: int = 5) -> np.ndarray:
    """bool[repeats * 2n]: whether each held-out clip's domain was told right, ``n = min(len(x), len(y))``.

    Each repeat draws a balanced subsample (n of each), splits it into stratified folds, trains on
    the other folds and predicts the held-out one.
    """
    n = min(len(x), len(y))
    folds = max(2, min(folds, n))
    outcomes = []
    for _ in range(repeats):
        xs = x[rng.choice(len(x), n, replace=False)]
        ys = y[rng.choice(len(y), n, replace=False)]
        data = np.concatenate([xs, ys])
        target = np.concatenate([np.zeros(n), np.ones(n)])
        fold_of = np.concatenate([rng.permutation(n) % folds, rng.permutation(n) % folds])
        right = np.zeros(2 * n, dtype=bool)
        for f in range(folds):
            test = fold_of == f
            w = fit_logistic(data[~test], target[~test])
            scores = np.concatenate([data[test], np.ones((test.sum(), 1))], axis=1) @ w
            right[test] = (scores > 0) == (target[test] > 0.5)
        outcomes.append(right)
    return np.concatenate(outcomes)


def proxy_a_distance_from_outcomes(right: np.ndarray) -> float:
    """2(1 - 2 error); an error above 0.5 (worse than a coin: a cross-validation artefact when the sets
    overlap, as a clip's twin with the other label sits in the training folds) counts as 0.5."""
    error = min(0.5, 1.0 - float(right.mean()))
    return 2.0 * (1.0 - 2.0 * error)


def percentile_interval(samples, level: float = 0.95) -> list[float]:
    s = np.asarray([v for v in samples if np.isfinite(v)], dtype=np.float64)
    if not s.size:
        return [float("nan"), float("nan")]
    tail = (1 - level) / 2 * 100
    return [float(np.percentile(s, tail)), float(np.percentile(s, 100 - tail))]


def bias_corrected_interval(samples, estimate: float, *, floor: float | None = None, level: float = 0.95) -> list[float]:
    """Percentile interval of bootstrap values moved by the bootstrap's bias estimate (their mean minus the estimate).

    Distances such as the Fréchet distance are biased upwards by small samples, and a resample (which
    repeats clips) is smaller still, so its values sit above the estimate; uncorrected, the interval
    can miss the estimate altogether. ``floor``: the least value the statistic can take (0 for a distance).
    """
    s = np.asarray([v for v in samples if np.isfinite(v)], dtype=np.float64)
    if not s.size or not np.isfinite(estimate):
        return [float("nan"), float("nan")]
    lo, hi = np.asarray(percentile_interval(s, level)) - (s.mean() - estimate)
    if floor is not None:
        lo, hi = max(lo, floor), max(hi, floor)
    return [float(lo), float(hi)]


def bootstrap_two_sets(statistic, n: int, m: int, rng: np.random.Generator, resamples: int = BOOTSTRAP, *,
                       floor: float | None = None) -> list[float]:
    """95% bias-corrected bootstrap interval of ``statistic(idx_x, idx_y)``, resampling both sets with replacement."""
    estimate = statistic(np.arange(n), np.arange(m))
    values = [statistic(rng.integers(0, n, n), rng.integers(0, m, m)) for _ in range(resamples)]
    return bias_corrected_interval(values, estimate, floor=floor)


def feature_gap(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, resamples: int = BOOTSTRAP) -> dict:
    """Fréchet distance, MMD² and proxy A-distance between feature sets x (synthetic) and y (real), each with
    a 95% bootstrap interval and the sample sizes. Also returns what later steps reuse (``_space``)."""
    zx, zy = standardise(np.asarray(x, np.float64), np.asarray(y, np.float64))
    n, m = len(zx), len(zy)
    k = max(1, min(MAX_COMPONENTS, zx.shape[1], min(n, m) - 1))
    comps = pooled_components(zx, zy, k)
    bandwidth = median_bandwidth(zx, zy)
    pooled = np.concatenate([zx, zy])
    kernel = gaussian_kernel(pooled, pooled, bandwidth)

    def mmd_idx(ix, iy):
        return mmd_squared_from_indices(kernel, ix, iy + n)

    fd = frechet_distance(zx, zy, comps)
    mmd = mmd_idx(np.arange(n), np.arange(m))
    px, py = zx @ comps, zy @ comps
    right = domain_classifier_outcomes(px, py, rng)
    pad = proxy_a_distance_from_outcomes(right)
    sizes = dict(synthetic=n, real=m)
    return dict(
        frechet_distance=dict(value=fd, ci95=bootstrap_two_sets(lambda a, b: frechet_distance(zx[a], zy[b], comps), n, m, rng, resamples, floor=0.0),
                              n=sizes, components=k,
                              how=f"z-scored with pooled statistics, projected on the pooled set's first {k} principal components"),
        mmd=dict(value=mmd, ci95=bootstrap_two_sets(mmd_idx, n, m, rng, resamples), n=sizes,
                 kernel=f"Gaussian exp(-||x-y||^2 / s^2), s^2 = {bandwidth:.4g} (median squared distance of the pooled z-scored features)",
                 estimator="unbiased MMD^2 (U-statistic; about 0 for one distribution, may be slightly negative)"),
        proxy_a_distance=dict(value=pad, ci95=percentile_interval(
            proxy_a_distance_from_outcomes(right[rng.integers(0, len(right), len(right))]) for _ in range(resamples)),
            classifier_accuracy=float(right.mean()), n=dict(per_domain=min(n, m), synthetic=n, real=m),
            how=f"L2 logistic regression on the {k} principal components, 5-fold cross-validation on balanced "
                f"subsamples ({min(n, m)} per domain, 5 repeats); PAD = 2(1 - 2*error)"),
        _space=dict(z_synthetic=zx, z_real=zy, kernel=kernel, bandwidth=bandwidth),
    )


def scalar_gap(synthetic: list[float | None], real: list[float | None], rng: np.random.Generator,
               *, resamples: int = BOOTSTRAP) -> dict:
    """One per-clip statistic in both sets: means, the real-minus-synthetic difference and the
    1-Wasserstein distance between the two distributions, each with a 95% bootstrap interval.
    Clips where the statistic is undefined (``None``) are left out and counted."""
    from scipy.stats import wasserstein_distance

    a = np.asarray([v for v in synthetic if v is not None and np.isfinite(v)], dtype=np.float64)
    b = np.asarray([v for v in real if v is not None and np.isfinite(v)], dtype=np.float64)
    out = dict(n=dict(synthetic=int(a.size), real=int(b.size),
                      undefined=dict(synthetic=len(synthetic) - int(a.size), real=len(real) - int(b.size))))
    if not a.size or not b.size:
        return out
    out["synthetic"] = dict(mean=float(a.mean()), std=float(a.std()))
    out["real"] = dict(mean=float(b.mean()), std=float(b.std()))
    diff = lambda i, j: float(b[j].mean() - a[i].mean())  # noqa: E731
    wass = lambda i, j: float(wasserstein_distance(a[i], b[j]))  # noqa: E731
    out["difference"] = dict(value=diff(slice(None), slice(None)), ci95=bootstrap_two_sets(diff, a.size, b.size, rng, resamples))
    out["wasserstein"] = dict(value=wass(slice(None), slice(None)), ci95=bootstrap_two_sets(wass, a.size, b.size, rng, resamples, floor=0.0))
    # in units of the synthetic spread: comparable across statistics, used to rank them
    out["standardised_difference"] = out["difference"]["value"] / (a.std() if a.std() > 1e-12 else 1.0)
    return out


def histogram_gap(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator, *, resamples: int = BOOTSTRAP) -> dict:
    """Hellinger distance (0 same, 1 disjoint) between the pooled colour histograms of the two sets,
    averaged over the RGB channels; inputs float[N, 3, bins] per clip."""
    def hellinger(i, j):
        p, q = synthetic[i].mean(0), real[j].mean(0)
        return float(np.mean(np.sqrt(np.maximum(0.0, 1.0 - np.sqrt(p * q).sum(-1)))))

    n, m = len(synthetic), len(real)
    return dict(value=hellinger(slice(None), slice(None)), ci95=bootstrap_two_sets(hellinger, n, m, rng, resamples, floor=0.0),
                n=dict(synthetic=n, real=m), how="Hellinger distance of pooled RGB histograms, mean over channels")
