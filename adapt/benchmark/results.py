"""Per-run records -> the per-method summary written to ``results.json``, and the printed table."""

from __future__ import annotations

import numpy as np


def _pooled(runs: list[dict], classes: list[str], key: str = "clean") -> tuple[dict, list]:
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r in runs:
        cm += np.asarray(r["conditions"][key]["confusion_counts"], dtype=np.int64)
    support = cm.sum(1)
    per_class = {c: (round(float(cm[i, i] / support[i]), 4) if support[i] else None) for i, c in enumerate(classes)}
    return per_class, cm.tolist()


def _seed_accuracies(runs: list[dict], key: str) -> list[float]:
    """Accuracy of each seed, pooled over its folds' test clips."""
    out = []
    for seed in sorted({r["seed"] for r in runs}):
        mine = [r for r in runs if r["seed"] == seed]
        correct = sum(r["conditions"][key]["correct"] for r in mine)
        total = sum(r["conditions"][key]["n_clips"] for r in mine)
        out.append(correct / max(total, 1))
    return out


def summarise(runs: list[dict], methods: list[str], classes: list[str]) -> dict:
    """``{METHOD: {accuracy_mean, accuracy_std, per_fold, per_class, confusion, ...}}``.

    ``accuracy_mean`` / ``accuracy_std``: mean and standard deviation over seeds of the accuracy
    pooled over every fold's test clips (with one seed the std is 0: see ``fold_std``);
    ``per_fold``: fold -> mean accuracy over seeds; ``per_class`` and ``confusion`` (counts,
    rows = truth, columns = prediction, in ``classes`` order): pooled over folds and seeds.
    A method that does not apply (e.g. ``real-only`` at 0 shots) gets ``not_applicable``.
    """
    out = {}
    for m in methods:
        mine = [r for r in runs if r["method"] == m]
        if not mine:
            continue
        if any(r.get("not_applicable") for r in mine):
            out[m] = dict(accuracy_mean=None, accuracy_std=None, per_fold={}, per_class={}, confusion=[],
                          not_applicable=mine[0]["not_applicable"])
            continue
        seeds = _seed_accuracies(mine, "clean")
        folds = sorted({r["fold"] for r in mine}, key=lambda f: [r["fold"] for r in mine].index(f))
        per_fold = {f: round(float(np.mean([r["conditions"]["clean"]["accuracy"] for r in mine if r["fold"] == f])), 4)
                    for f in folds}
        per_class, confusion = _pooled(mine, classes)
        entry = dict(accuracy_mean=round(float(np.mean(seeds)), 4), accuracy_std=round(float(np.std(seeds)), 4),
                     per_seed=[round(a, 4) for a in seeds], per_fold=per_fold,
                     fold_std=round(float(np.std(list(per_fold.values()))), 4), per_class=per_class,
                     confusion=confusion, classes=classes,
                     n_test_clips=sum(r["conditions"]["clean"]["n_clips"] for r in mine),
                     seconds=round(sum(r["seconds"] for r in mine), 1))
        conditions = [k for k in mine[0]["conditions"] if k != "clean"]
        if conditions:
            perturbed: dict = {}
            for key in conditions:
                kind, _, level = key.partition("@")
                perturbed.setdefault(kind, {})[level] = round(float(np.mean(_seed_accuracies(mine, key))), 4)
            entry["perturbations"] = perturbed
        picks = [r["picked"] for r in mine if r.get("picked")]
        if picks:
            entry["picked"] = {p: picks.count(p) for p in sorted(set(picks))}
        out[m] = entry
    return out


def table(summary: dict, folds: list[str]) -> str:
    """The printed table: one row per method, accuracy mean ± std over seeds, per fold, time."""
    head = ["method", "accuracy", *folds, "seconds"]
    rows = []
    for m, e in summary.items():
        if e.get("not_applicable"):
            rows.append([m, "n/a", *["-"] * len(folds), "-"])
            continue
        rows.append([m, f"{100 * e['accuracy_mean']:.1f}% ± {100 * e['accuracy_std']:.1f}",
                     *[f"{100 * e['per_fold'].get(f, float('nan')):.0f}" for f in folds], f"{e['seconds']:.0f}"])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head, *rows]]
    notes = [f"{m}: n/a ({e['not_applicable']})" for m, e in summary.items() if e.get("not_applicable")]
    return "\n".join(lines + notes)
