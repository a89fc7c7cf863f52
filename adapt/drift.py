"""Drift monitoring: are the clips arriving still like the clips the model was validated on?

Inputs are per-clip features (``model.features`` averaged over windows) and class
probabilities of a *reference* set (what the model was validated on) and of a *stream*
(new footage). Four two-sample statistics compare them:

* ``mmd`` — features: squared maximum mean discrepancy (Gretton et al., "A Kernel
  Two-Sample Test", JMLR 2012), Gaussian kernels at 0.5, 1 and 2 x the median pairwise
  squared distance, biased V-statistic;
* ``knn`` — features: mean over stream clips of the distance to their ``k`` nearest
  reference clips (a clip unlike every reference clip is far from all of them);
* ``entropy`` — confidence: difference of the mean normalised prediction entropy
  (stream minus reference; two-sided);
* ``class_tv`` — class frequencies: total variation between the predicted-class
  histograms.

Features are z-scored per dimension with the pooled (reference + stream) mean and spread,
so every statistic is a symmetric function of the pooled set.

**Calibration.** No threshold is hand-set: each statistic's null distribution comes from the
data. Under "no drift" reference and stream clips are exchangeable, so re-splitting the pooled
clips at random into sets of the reference's and the stream's sizes gives the statistic's null
distribution (a permutation test); the p-value is ``(1 + #{T_perm >= T}) / (1 + B)``, which
holds its level exactly at any sample size. The stream is flagged when any statistic's
p-value is below ``alpha / 4`` (Bonferroni over the four), so the chance of a false alarm on a
same-distribution stream is at most ``alpha``.

**Per clip.** Each stream clip's novelty is a conformal p-value (Vovk et al. 2005): its
k-NN distance to the reference, ranked among the leave-one-out k-NN distances of the
reference clips themselves (``(1 + #{ref >= s}) / (n + 1)``). Clips to label first are the
novel ones (p < ``alpha``), then the rest, each group ordered by
:func:`simgen.adapt.active.pick_for_labelling` (uncertainty x diversity).
"""

from __future__ import annotations

import numpy as np

from simgen.adapt.active import pick_for_labelling, uncertainty

STATISTICS = ("mmd", "knn", "entropy", "class_tv")
WHAT = {"mmd": "features", "knn": "features", "entropy": "confidence", "class_tv": "class frequencies"}


def standardise(reference: np.ndarray, stream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets z-scored per dimension with the pooled mean and standard deviation (floor 1e-6)."""
    pooled = np.concatenate([reference, stream]).astype(np.float64)
    mean, std = pooled.mean(0), pooled.std(0)
    std = np.where(std > 1e-6, std, 1.0)  # a constant dimension carries no information either way
    return (reference - mean) / std, (stream - mean) / std


def squared_distances(x: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances ``(N, N)`` of the rows of ``x`` (clipped at 0)."""
    sq = (x * x).sum(1)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)


def gaussian_kernel(d2: np.ndarray) -> np.ndarray:
    """Mean of Gaussian kernels at 0.5, 1 and 2 x the median off-diagonal squared distance."""
    off = d2[~np.eye(len(d2), dtype=bool)]
    h = float(np.median(off)) if off.size and np.median(off) > 0 else 1.0
    return np.mean([np.exp(-d2 / (s * h)) for s in (0.5, 1.0, 2.0)], axis=0)


def _mmd2(kernel: np.ndarray, ref: np.ndarray, stream: np.ndarray) -> float:
    return float(kernel[np.ix_(ref, ref)].mean() + kernel[np.ix_(stream, stream)].mean()
                 - 2.0 * kernel[np.ix_(ref, stream)].mean())


def knn_scores(dist: np.ndarray, k: int) -> np.ndarray:
    """Mean of each row's ``k`` smallest distances (``dist``: queries x reference)."""
    k = max(1, min(k, dist.shape[1]))
    return np.partition(dist, k - 1, axis=1)[:, :k].mean(1)


def _knn_stat(dist: np.ndarray, ref: np.ndarray, stream: np.ndarray, k: int) -> float:
    return float(knn_scores(dist[np.ix_(stream, ref)], k).mean())


def _entropy_stat(ent: np.ndarray, ref: np.ndarray, stream: np.ndarray) -> float:
    return float(abs(ent[stream].mean() - ent[ref].mean()))


def class_histogram(predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Share of clips predicted as each class."""
    return np.bincount(predicted, minlength=num_classes) / max(len(predicted), 1)


def _tv_stat(pred: np.ndarray, ref: np.ndarray, stream: np.ndarray, k: int) -> float:
    return float(0.5 * np.abs(class_histogram(pred[ref], k) - class_histogram(pred[stream], k)).sum())


def novelty_pvalues(ref_feats: np.ndarray, stream_feats: np.ndarray,
                    k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conformal novelty of each stream clip against the reference (see the module docstring).

    Returns:
        ``(reference leave-one-out k-NN distances, stream k-NN distances, stream p-values)``.
    """
    ref_ref = np.sqrt(squared_distances(ref_feats))
    np.fill_diagonal(ref_ref, np.inf)  # leave one out: a clip is not its own neighbour
    ref_scores = knn_scores(ref_ref, k)
    cross = np.sqrt(np.maximum((stream_feats ** 2).sum(1)[:, None] + (ref_feats ** 2).sum(1)[None, :]
                               - 2.0 * stream_feats @ ref_feats.T, 0.0))
    scores = knn_scores(cross, k)
    p = (1.0 + (ref_scores[None, :] >= scores[:, None]).sum(1)) / (len(ref_scores) + 1.0)
    return ref_scores, scores, p


def drift_tests(ref_probs: np.ndarray, ref_feats: np.ndarray, stream_probs: np.ndarray, stream_feats: np.ndarray,
                rng: np.random.Generator, *, permutations: int = 2000, alpha: float = 0.05, k: int = 3) -> dict:
    """The four statistics of the module docstring, their permutation p-values and the flag.

    Args:
        ref_probs, stream_probs: ``(n, K)`` / ``(m, K)`` class probabilities per clip.
        ref_feats, stream_feats: ``(n, D)`` / ``(m, D)`` clip features.
        rng: draws the permutations.
        permutations: re-splits of the pooled clips (``B``); the smallest p-value is ``1 / (B + 1)``.
        alpha: family-wise false-alarm rate; each statistic is tested at ``alpha / 4``.
        k: neighbours of the k-NN distance (at most ``n - 1``).

    Returns:
        ``dict(flagged, alpha, level, permutations, k, statistics={NAME: dict(value, p_value, flagged,
        what, null_mean, null_q95)}, null={NAME: [B values]}, reference_entropy, stream_entropy,
        reference_classes, stream_classes, novelty=dict(reference_scores, stream_scores, p_values))``.

    Raises:
        ValueError: fewer than 2 reference or 1 stream clip, or shapes that disagree.
    """
    ref_probs, stream_probs = np.asarray(ref_probs, np.float64), np.asarray(stream_probs, np.float64)
    ref_feats, stream_feats = np.asarray(ref_feats, np.float64), np.asarray(stream_feats, np.float64)
    n, m = len(ref_feats), len(stream_feats)
    if n < 2 or m < 1:
        raise ValueError(f"need at least 2 reference clips and 1 stream clip, got {n} and {m}")
    if len(ref_probs) != n or len(stream_probs) != m:
        raise ValueError(f"{len(ref_probs)}/{len(stream_probs)} probability rows for {n}/{m} feature rows")
    if ref_feats.shape[1] != stream_feats.shape[1] or ref_probs.shape[1] != stream_probs.shape[1]:
        raise ValueError("reference and stream have different feature or class dimensions")
    if not 0 < alpha < 1 or permutations < 1:
        raise ValueError(f"need 0 < alpha < 1 and permutations >= 1, got {alpha} and {permutations}")
    k = max(1, min(k, n - 1))
    zr, zs = standardise(ref_feats, stream_feats)
    pooled = np.concatenate([zr, zs])
    d2 = squared_distances(pooled)
    kernel, dist = gaussian_kernel(d2), np.sqrt(d2)
    ent = uncertainty(np.concatenate([ref_probs, stream_probs]), "entropy")
    pred = np.concatenate([ref_probs, stream_probs]).argmax(1)
    num_classes = ref_probs.shape[1]
    stat = {
        "mmd": lambda r, s: _mmd2(kernel, r, s),
        "knn": lambda r, s: _knn_stat(dist, r, s, k),
        "entropy": lambda r, s: _entropy_stat(ent, r, s),
        "class_tv": lambda r, s: _tv_stat(pred, r, s, num_classes),
    }
    ref_idx, stream_idx = np.arange(n), np.arange(n, n + m)
    observed = {name: f(ref_idx, stream_idx) for name, f in stat.items()}
    null = {name: np.empty(permutations) for name in STATISTICS}
    for b in range(permutations):
        order = rng.permutation(n + m)
        r, s = order[:n], order[n:]
        for name, f in stat.items():
            null[name][b] = f(r, s)
    level = alpha / len(STATISTICS)
    stats = {}
    for name in STATISTICS:
        # a tiny tolerance: a permutation equal to the observed split must count as ">=" despite rounding
        p = (1.0 + (null[name] >= observed[name] - 1e-12).sum()) / (1.0 + permutations)
        stats[name] = dict(value=observed[name], p_value=float(p), flagged=bool(p < level), what=WHAT[name],
                           null_mean=float(null[name].mean()), null_q95=float(np.quantile(null[name], 0.95)))
    ref_scores, stream_scores, novelty_p = novelty_pvalues(zr, zs, k)
    return dict(flagged=any(s["flagged"] for s in stats.values()), alpha=alpha, level=level,
                permutations=permutations, k=k, statistics=stats, null={k_: v.tolist() for k_, v in null.items()},
                reference_entropy=ent[:n].tolist(), stream_entropy=ent[n:].tolist(),
                reference_classes=class_histogram(pred[:n], num_classes).tolist(),
                stream_classes=class_histogram(pred[n:], num_classes).tolist(),
                novelty=dict(reference_scores=ref_scores.tolist(), stream_scores=stream_scores.tolist(),
                             p_values=novelty_p.tolist()))


def clips_to_label(stream_probs: np.ndarray, stream_feats: np.ndarray, novelty_p: np.ndarray, budget: int, *,
                   alpha: float = 0.05) -> list[dict]:
    """Up to ``budget`` stream clips to label, novel ones (novelty p < ``alpha``) first.

    Within each group the order is :func:`pick_for_labelling`'s (uncertainty x distance to the
    clips already picked). Returns ``[dict(index, novel, score, uncertainty, distance)]``.
    """
    novelty_p = np.asarray(novelty_p)
    picks: list[dict] = []
    for novel in (True, False):
        group = np.flatnonzero((novelty_p < alpha) == novel)
        left = budget - len(picks)
        if left <= 0 or len(group) == 0:
            continue
        for pk in pick_for_labelling(np.asarray(stream_probs)[group], np.asarray(stream_feats)[group], left):
            picks.append(dict(pk, index=int(group[pk["index"]]), novel=novel))
    return picks
