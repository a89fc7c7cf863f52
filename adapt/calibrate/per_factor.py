"""Which sampled factors cause the gap: the distance to the real set of each factor bin, ranked.

For every factor in the synthetic manifest (found generically: whatever the generator samples),
the synthetic clips are split into bins - quantile ranges of a numeric factor, one bin per value
of a categorical one - and each bin's MMD² to the real clips is measured with the report's kernel
(:func:`simgen.adapt.calibrate.distances.feature_gap`), with a bootstrap interval. A factor whose
bins differ a lot (the *spread*, worst minus best bin) is one whose setting moves the synthetic
clips towards or away from the footage. With shared classes the same is done within each class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simgen.adapt.calibrate.distances import bias_corrected_interval, mmd_squared_from_indices

#: numeric factors are cut into this many quantile bins (fewer when the clips are few)
NUMERIC_BINS = 4
#: a numeric factor with at most this many distinct values is treated as categorical
MAX_CATEGORIES = 6
#: smallest bin measured, over all clips and within one class
MIN_BIN = 8
MIN_BIN_PER_CLASS = 4
#: a factor missing from more than this share of the clips compared (an action's own amplitude, say,
#: which only its class has) is left to the per-class analysis: its bins would hold one class only
#: and be compared with the real clips of every class
MAX_MISSING = 0.05


def common_factors(factor_rows: list[dict[str, Any]]) -> list[str]:
    """Names of the factors present (not None) in all but :data:`MAX_MISSING` of the rows."""
    names = sorted({k for row in factor_rows for k in row})
    n = max(1, len(factor_rows))
    return [k for k in names if sum(row.get(k) is not None for row in factor_rows) >= (1 - MAX_MISSING) * n]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def factor_bins(values: list[Any], min_bin: int) -> list[tuple[str, np.ndarray, dict]]:
    """[(label, indices, description)] of the clips that have the factor, or [] when it does not vary.

    Numeric values are cut at quantiles into up to :data:`NUMERIC_BINS` bins of at least ``min_bin``
    clips; others (and numbers with few distinct values) get one bin per value; values with fewer than
    ``min_bin`` clips are left out.
    """
    present = np.asarray([i for i, v in enumerate(values) if v is not None])
    if not len(present):
        return []
    vals = [values[i] for i in present]
    distinct = {str(v) for v in vals}
    if len(distinct) < 2:
        return []
    if all(_is_number(v) for v in vals) and len(distinct) > MAX_CATEGORIES:
        arr = np.asarray(vals, dtype=np.float64)
        bins = int(min(NUMERIC_BINS, len(arr) // min_bin))
        if bins < 2:
            return []
        edges = np.quantile(arr, np.linspace(0, 1, bins + 1))
        which = np.clip(np.searchsorted(edges, arr, side="right") - 1, 0, bins - 1)
        out = []
        for b in range(bins):
            idx = present[which == b]
            if len(idx) >= min_bin:
                lo, hi = float(arr[which == b].min()), float(arr[which == b].max())
                out.append((f"{_fmt(lo)} to {_fmt(hi)}", idx, dict(low=lo, high=hi)))
        return out if len(out) >= 2 else []
    out = []
    for value in sorted(distinct):
        idx = present[np.asarray([str(v) == value for v in vals])]
        if len(idx) >= min_bin:
            out.append((value, idx, dict(value=value)))
    return out if len(out) >= 2 else []


def _bin_distance(kernel: np.ndarray, syn_idx: np.ndarray, real_idx: np.ndarray, rng: np.random.Generator,
                  resamples: int) -> tuple[float, list[float]]:
    value = mmd_squared_from_indices(kernel, syn_idx, real_idx)
    boot = [mmd_squared_from_indices(kernel, rng.choice(syn_idx, len(syn_idx)), rng.choice(real_idx, len(real_idx)))
            for _ in range(resamples)]
    return value, bias_corrected_interval(boot, value)


def rank_factors(factor_rows: list[dict[str, Any]], syn_idx: np.ndarray, real_idx: np.ndarray, kernel: np.ndarray,
                 rng: np.random.Generator, *, min_bin: int = MIN_BIN, resamples: int = 100) -> list[dict]:
    """Factors of the synthetic clips ``syn_idx`` (rows of ``kernel``; ``factor_rows[k]`` belongs to
    ``syn_idx[k]``) ranked by spread of their bins' MMD² to the real clips ``real_idx``."""
    ranked = []
    for name in common_factors(factor_rows):
        bins = factor_bins([row.get(name) for row in factor_rows], min_bin)
        if not bins:
            continue
        measured = []
        for label, idx, desc in bins:
            value, ci = _bin_distance(kernel, syn_idx[idx], real_idx, rng, resamples)
            measured.append(dict(bin=label, **desc, n=int(len(idx)), mmd=value, ci95=ci))
        best = min(measured, key=lambda b: b["mmd"])
        worst = max(measured, key=lambda b: b["mmd"])
        ranked.append(dict(factor=name, spread=worst["mmd"] - best["mmd"], best=best["bin"], worst=worst["bin"],
                           # the intervals of the nearest and farthest bins do not overlap
                           separated=bool(best["ci95"][1] < worst["ci95"][0]), bins=measured))
    ranked.sort(key=lambda f: -f["spread"])
    return ranked


def describe(ranked: list[dict], *, top: int = 5, where: str = "") -> list[str]:
    """Sentences for the report: which ranges of the top factors look most and least like the real footage."""
    sentences = []
    for f in ranked[:top]:
        best = next(b for b in f["bins"] if b["bin"] == f["best"])
        worst = next(b for b in f["bins"] if b["bin"] == f["worst"])
        sure = "" if f["separated"] else " (the intervals overlap: weak evidence)"
        sentences.append(
            f"{where}{f['factor']}: clips with {best['bin']} look most like the real footage "
            f"(MMD² {best['mmd']:.3f} [{best['ci95'][0]:.3f}, {best['ci95'][1]:.3f}], {best['n']} clips); "
            f"{worst['bin']} least ({worst['mmd']:.3f} [{worst['ci95'][0]:.3f}, {worst['ci95'][1]:.3f}], {worst['n']} clips){sure}."
        )
    return sentences


def per_factor_analysis(factor_rows: list[dict[str, Any]], syn_labels: list[str | None], real_labels: list[str | None],
                        kernel: np.ndarray, rng: np.random.Generator, *, top: int = 5) -> dict:
    """The whole analysis: all clips, then each class both sets share. ``kernel`` is the pooled kernel
    matrix, synthetic clips first (``len(factor_rows)`` of them), then the real ones."""
    n, m = len(factor_rows), len(real_labels)
    syn_idx, real_idx = np.arange(n), n + np.arange(m)
    overall = rank_factors(factor_rows, syn_idx, real_idx, kernel, rng)
    shared = sorted({c for c in syn_labels if c} & {c for c in real_labels if c})
    per_class, sentences_by_class = {}, {}
    for c in shared:
        s = np.asarray([i for i in range(n) if syn_labels[i] == c])
        r = np.asarray([n + j for j in range(m) if real_labels[j] == c])
        if len(r) < 2 or len(s) < 2 * MIN_BIN_PER_CLASS:
            continue
        ranked = rank_factors([factor_rows[i] for i in s], s, r, kernel, rng, min_bin=MIN_BIN_PER_CLASS, resamples=30)
        per_class[c] = ranked[:top]
        sentences_by_class[c] = describe(ranked, top=3, where=f"{c}: ")
    return dict(
        distance="MMD² of the bin's synthetic clips to the real clips (the report's kernel); 95% bootstrap intervals",
        factors=overall, sentences=describe(overall, top=top), shared_classes=shared,
        per_class=per_class, per_class_sentences=sentences_by_class,
    )


def class_distances(syn_labels: list[str | None], real_labels: list[str | None], kernel: np.ndarray) -> dict:
    """MMD² between every real class and every synthetic class: a real class nearer to another
    synthetic class than to its own is one a model trained on the synthetic clips will confuse."""
    n = len(syn_labels)
    syn_classes = sorted({c for c in syn_labels if c})
    real_classes = sorted({c for c in real_labels if c})
    table, nearest = {}, {}
    for rc in real_classes:
        r = np.asarray([n + j for j, c in enumerate(real_labels) if c == rc])
        row = {}
        for sc in syn_classes:
            s = np.asarray([i for i, c in enumerate(syn_labels) if c == sc])
            row[sc] = mmd_squared_from_indices(kernel, s, r)
        table[rc] = row
        finite = {k: v for k, v in row.items() if np.isfinite(v)}
        if finite:
            nearest[rc] = min(finite, key=finite.get)
    return dict(mmd=table, nearest_synthetic_class=nearest, synthetic_classes=syn_classes, real_classes=real_classes)


def statistic_drivers(factor_rows: list[dict[str, Any]], values: list[float | None], real_mean: float, *,
                      min_bin: int = MIN_BIN, top: int = 3) -> list[dict]:
    """Which factors move one low-level statistic (say ``person_bulk``) most, and how close their best range gets.

    For every factor, the statistic's mean in each bin; factors ranked by the spread of those means.
    ``nearest`` is the bin whose mean is closest to the real mean; ``remaining_gap`` is what that bin
    still leaves (real minus its mean): a gap no range closes needs a factor range the spec does not have yet.
    """
    ranked = []
    for name in common_factors(factor_rows):
        measured = []
        for label, idx, desc in factor_bins([row.get(name) for row in factor_rows], min_bin):
            v = np.asarray([values[i] for i in idx if values[i] is not None], dtype=np.float64)
            if len(v) >= 2:
                measured.append(dict(bin=label, **desc, n=int(len(v)), mean=float(v.mean()),
                                     standard_error=float(v.std(ddof=1) / np.sqrt(len(v)))))
        if len(measured) < 2:
            continue
        means = [b["mean"] for b in measured]
        nearest = min(measured, key=lambda b: abs(b["mean"] - real_mean))
        ranked.append(dict(factor=name, spread=float(max(means) - min(means)), nearest=nearest["bin"],
                           nearest_mean=nearest["mean"], remaining_gap=float(real_mean - nearest["mean"]), bins=measured))
    ranked.sort(key=lambda f: -f["spread"])
    return ranked[:top]


def describe_drivers(statistic: str, synthetic_mean: float, real_mean: float, drivers: list[dict]) -> str:
    if not drivers:
        return f"{statistic}: no sampled factor varies enough to bin."
    d = drivers[0]
    low = min(d["bins"], key=lambda b: b["mean"])
    high = max(d["bins"], key=lambda b: b["mean"])
    gap = real_mean - synthetic_mean
    share = d["remaining_gap"] / gap if abs(gap) > 1e-12 else 0.0
    closes = ("its nearest range closes the gap" if abs(share) < 0.25 else
              f"even its nearest range ({d['nearest']}) leaves {share:.0%} of the gap: widen the range or add a factor")
    return (f"{statistic} (real {real_mean:.3g}, synthetic {synthetic_mean:.3g}): {d['factor']} moves it most, from "
            f"{low['mean']:.3g} at {low['bin']} to {high['mean']:.3g} at {high['bin']}; {closes}.")
