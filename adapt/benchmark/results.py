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


def _seed_accuracies(runs: list[dict], key: str, field: str = "correct") -> list[float]:
    """Accuracy of each seed, pooled over its folds' test clips (``field``: the record's count of right clips)."""
    out = []
    for seed in sorted({r["seed"] for r in runs}):
        mine = [r for r in runs if r["seed"] == seed]
        correct = sum(r["conditions"][key][field] for r in mine)
        total = sum(r["conditions"][key]["n_clips"] for r in mine)
        out.append(correct / max(total, 1))
    return out


def _difference_ceilings(runs: list[dict], conditions: list[str]) -> dict:
    """``{KIND: {LEVEL: {frozen_clips, accuracy}}}`` for the perturbed conditions whose records say which clips
    are frozen (:func:`simgen.adapt.benchmark.scoring.condition_record`): frozen test clips a seed (mean over
    seeds) and the most a model of frame differences alone can score there (pooled per seed, mean over seeds)."""
    out: dict = {}
    seeds = sorted({r["seed"] for r in runs})
    for key in conditions:
        if not all("difference_ceiling" in r["conditions"][key] for r in runs):
            continue
        kind, _, level = key.partition("@")
        frozen = [sum(r["conditions"][key]["frozen"] for r in runs if r["seed"] == s) for s in seeds]
        out.setdefault(kind, {})[level] = dict(
            frozen_clips=round(float(np.mean(frozen)), 2),
            accuracy=round(float(np.mean(_seed_accuracies(runs, key, "difference_ceiling"))), 4))
    return out


def summarise(runs: list[dict], methods: list[str], classes: list[str]) -> dict:
    """``{METHOD: {accuracy_mean, accuracy_std, per_fold, per_class, confusion, ...}}`` (with ``--task
    segment`` also ``segment``: :func:`simgen.adapt.benchmark.segment.summarise_segment`).

    ``accuracy_mean`` / ``accuracy_std``: mean and standard deviation over seeds of the accuracy
    pooled over every fold's test clips (with one seed the std is 0: see ``fold_std``);
    ``per_fold``: fold -> mean accuracy over seeds; ``per_class`` and ``confusion`` (counts,
    rows = truth, columns = prediction, in ``classes`` order): pooled over folds and seeds;
    ``perturbations``: KIND -> LEVEL -> accuracy, and ``difference_ceiling`` (:func:`_difference_ceilings`)
    beside it.
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
            ceilings = _difference_ceilings(mine, conditions)
            if ceilings:
                entry["difference_ceiling"] = ceilings
        if all("segment" in r for r in mine):
            from simgen.adapt.benchmark.segment import summarise_segment  # loads torch: only when there is one

            entry["segment"] = summarise_segment(mine)
        counts = [r["info"]["pseudo_labels"] for r in mine if "pseudo_labels" in (r.get("info") or {})]
        if counts:  # ``pseudo``: unlabelled clips, pseudo-labels kept, and (for the report only) how many are right
            entry["pseudo_labels"] = {k: sum(c[k] for c in counts) for k in ("candidates", "kept", "right")}
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
    notes += frozen_notes(summary)
    segment = ""
    if any(e.get("segment") for e in summary.values()):
        from simgen.adapt.benchmark.segment import segment_table

        segment = segment_table(summary, folds)
    return "\n".join(lines + notes + (["", segment] if segment else []))


def frozen_notes(summary: dict) -> list[str]:
    """One line per perturbed level that left test clips frozen (every frame one picture), with the most a model
    of frame differences alone can score there: such a level's loss is not the model's to recover."""
    entry = next((e for e in summary.values() if e.get("difference_ceiling")), None)
    if entry is None:
        return []
    from simgen.adapt.perturb import frozen_note

    per_seed = entry["n_test_clips"] / max(len(entry["per_seed"]), 1)
    return [frozen_note(f"{kind}@{level}", c["frozen_clips"], per_seed, c["accuracy"])
            for kind, levels in entry["difference_ceiling"].items() for level, c in levels.items() if c["frozen_clips"]]


def merge(results: list[dict]) -> dict:
    """One result from runs of the same benchmark on disjoint seeds (``--first-seed``), re-summarised.

    Raises ``ValueError`` when the runs differ in anything but their seeds, or share a seed.
    """
    ignore = {"seeds", "seconds", "machine"}
    base = {k: v for k, v in results[0]["config"].items() if k not in ignore}
    seen: list[int] = []
    for r in results:
        other = {k: v for k, v in r["config"].items() if k not in ignore}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ValueError(f"cannot merge: the runs differ in {', '.join(diff)}")
        if set(seen) & set(r["config"]["seeds"]):
            raise ValueError(f"cannot merge: seed(s) {sorted(set(seen) & set(r['config']['seeds']))} appear twice")
        seen += r["config"]["seeds"]
    runs = [run for r in results for run in r["runs"]]
    config = dict(results[0]["config"], seeds=sorted(seen), seconds=[r["config"]["seconds"] for r in results])
    return dict(methods=summarise(runs, base["methods"], base["classes"]), config=config, runs=runs)


def main(argv: list[str] | None = None) -> int:
    """``python -m simgen.adapt.benchmark.results A.json B.json --out merged.json``: merge and print the table."""
    import argparse
    import json

    p = argparse.ArgumentParser(description=merge.__doc__.splitlines()[0])
    p.add_argument("results", nargs="+")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    import sys

    try:
        merged = merge([json.loads(open(f).read()) for f in args.results])
    except (OSError, ValueError) as exc:  # unreadable file, not JSON, or runs that differ
        print(f"results: {exc}", file=sys.stderr)
        return 2
    write_and_print(merged, args.out)
    return 0


def write_and_print(results: dict, path: str) -> None:
    """Write benchmark results JSON to ``path`` (its folder made if missing) and print their table."""
    import json
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(results, fh, indent=1)
    print(table(results["methods"], [f["name"] for f in results["config"]["folds"]]))


if __name__ == "__main__":
    raise SystemExit(main())
