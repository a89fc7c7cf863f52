"""Issue 11's targets, checked on finished benchmark runs: the clean mean over seeds against a floor, and every
perturbed level's mean against the clean mean less an allowed drop.

``python -m simgen.adapt.benchmark.targets A.json B.json C.json --method best --clean-min 99 --max-drop 5`` reads
one method from results files of one configuration on different seeds (``simgen sim2real`` or the
``ensemble`` module, one file per seed or several seeds a file), prints a table and says which target holds.
Means are over seeds, each seed's accuracy pooled over its folds' test clips (as ``results.summarise`` does);
a level exactly ``max_drop`` points under the clean mean counts as within.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: float noise in sums of 1/20-steps: a level on the line must not fall out of it
_TOLERANCE = 1e-9
#: settings that make two results files one configuration (when both record them)
_SAME_CONFIG = ("real", "shots", "synthetic", "input", "augment", "task", "ensemble_members")


class TargetsInputError(ValueError):
    """A results file that cannot be read as this check needs (the message names the file and the field)."""


def read_results(paths) -> dict[str, dict]:
    """``{path: results}`` for ``check_targets`` from results files; a file that is not JSON is named."""
    files = {}
    for path in paths:
        try:
            files[str(path)] = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TargetsInputError(f"{path}: cannot read it as JSON ({exc})") from None
    return files


def _seed_records(path: str, results: dict, method: str) -> list[dict]:
    """One record per seed of ``method`` in one results file: ``{seed, clean, levels: {KIND@LEVEL: accuracy}}``."""
    methods = results.get("methods")
    if not isinstance(methods, dict):
        raise TargetsInputError(f"{path}: no 'methods' table (is it a simgen sim2real results file?)")
    if method not in methods:
        raise TargetsInputError(f"{path}: no method '{method}' in 'methods' (it has: {', '.join(methods) or 'none'})")
    entry = methods[method]
    if entry.get("not_applicable"):
        raise TargetsInputError(f"{path}: method '{method}' did not apply ({entry['not_applicable']})")
    seeds = results.get("config", {}).get("seeds")
    per_seed = entry.get("per_seed")
    if not isinstance(seeds, list) or not isinstance(per_seed, list) or len(seeds) != len(per_seed):
        raise TargetsInputError(f"{path}: 'config.seeds' and 'methods.{method}.per_seed' are missing or differ in length")
    levels = {f"{kind}@{level}": acc for kind, by_level in (entry.get("perturbations") or {}).items()
              for level, acc in by_level.items()}
    ceilings = {f"{kind}@{level}": c["accuracy"] for kind, by_level in (entry.get("difference_ceiling") or {}).items()
                for level, c in by_level.items()}
    config = {k: results["config"][k] for k in _SAME_CONFIG if k in results["config"]}
    # a file of several seeds records its perturbed levels as means over them: each of its seeds carries that
    # mean, which weighs the file by its seeds in the mean over all files
    return [dict(seed=s, clean=c, levels=levels, ceilings=ceilings, config=config, path=path)
            for s, c in zip(seeds, per_seed)]


def check_targets(files: dict[str, dict], method: str, clean_min: float, max_drop: float) -> dict:
    """The targets' verdict for ``method`` over every seed of ``files`` (path -> results dict).

    Args:
        clean_min: the floor of the clean mean, in percent.
        max_drop: the most a perturbed level's mean may lie under the clean mean, in points.

    Returns:
        ``{method, seeds, clean: {per_seed, mean, met}, levels: {KEY: {mean, drop, within[, difference_ceiling]}},
        within: {count, of, met}, levels_mean}`` with accuracies in percent.

    Raises:
        TargetsInputError: a file lacks the method or its fields, a seed appears twice, or the files differ in
            configuration (``_SAME_CONFIG``) or in the perturbed levels they score.
    """
    records = [r for path, results in files.items() for r in _seed_records(path, results, method)]
    if not records:
        raise TargetsInputError("no seeds to check: give at least one results file")
    seen: dict[int, str] = {}
    for r in records:
        if r["seed"] in seen:
            raise TargetsInputError(f"seed {r['seed']} appears twice ({seen[r['seed']]} and {r['path']}): "
                                    "give each seed once")
        seen[r["seed"]] = r["path"]
    first = records[0]
    keys = list(first["levels"])
    for r in records[1:]:
        differ = sorted(k for k in set(r["config"]) & set(first["config"]) if r["config"][k] != first["config"][k])
        if differ:
            raise TargetsInputError(f"{r['path']}: config.{differ[0]} differs from {first['path']}'s "
                                    f"({r['config'][differ[0]]!r} against {first['config'][differ[0]]!r}): "
                                    "check runs of one configuration")
        if set(r["levels"]) != set(keys):
            raise TargetsInputError(f"{r['path']}: perturbed levels {sorted(r['levels'])} differ from "
                                    f"{first['path']}'s {sorted(keys)}: check runs of one configuration")
    n = len(records)
    clean_mean = 100 * sum(r["clean"] for r in records) / n
    levels = {}
    for key in keys:
        mean = 100 * sum(r["levels"][key] for r in records) / n
        levels[key] = dict(mean=round(mean, 4), drop=round(clean_mean - mean, 4),
                           within=clean_mean - mean <= max_drop + _TOLERANCE)
        if all(key in r["ceilings"] for r in records):  # frozen clips: the most frame differences can score
            levels[key]["difference_ceiling"] = round(100 * sum(r["ceilings"][key] for r in records) / n, 4)
    within = sum(v["within"] for v in levels.values())
    return dict(method=method, seeds=[r["seed"] for r in records], clean_min=clean_min, max_drop=max_drop,
                clean=dict(per_seed=[round(100 * r["clean"], 4) for r in records], mean=round(clean_mean, 4),
                           met=clean_mean >= clean_min - _TOLERANCE),
                levels=levels, within=dict(count=within, of=len(levels), met=within == len(levels)),
                levels_mean=round(sum(v["mean"] for v in levels.values()) / len(levels), 4) if levels else None)


def report(verdict: dict) -> str:
    """The printed form: clean per seed and mean, one line per perturbed level, the two verdicts."""
    def yes(met: bool) -> str:
        return "met" if met else "NOT met"

    c = verdict["clean"]
    lines = [f"{verdict['method']}, seeds {', '.join(map(str, verdict['seeds']))}",
             f"clean: {' / '.join(f'{a:.1f}' for a in c['per_seed'])}, mean {c['mean']:.1f}% "
             f"(target >= {verdict['clean_min']:g}%: {yes(c['met'])})"]
    if verdict["levels"]:
        width = max(len(k) for k in verdict["levels"])
        lines.append(f"{'level'.ljust(width)}   mean   drop  within {verdict['max_drop']:g}")
        for key, v in verdict["levels"].items():
            ceiling = v.get("difference_ceiling")
            note = f"  (frozen clips: frame differences score at most {ceiling:.1f})" if ceiling is not None and ceiling < 100 else ""
            lines.append(f"{key.ljust(width)}  {v['mean']:5.1f}  {v['drop']:5.1f}  {'yes' if v['within'] else 'NO'}{note}")
        w = verdict["within"]
        lines.append(f"within {verdict['max_drop']:g} points of clean: {w['count']} of {w['of']} levels "
                     f"({yes(w['met'])}); mean of the levels {verdict['levels_mean']:.1f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="check issue 11's targets on finished benchmark runs (one "
                                            "configuration, any seeds): clean mean and perturbed levels")
    p.add_argument("results", nargs="+", help="results JSON files of simgen sim2real or of the ensemble module")
    p.add_argument("--method", required=True, help="the method to check, e.g. best, or recipes for an ensemble")
    p.add_argument("--clean-min", dest="clean_min", type=float, default=95.0,
                   help="floor of the clean mean over seeds, in %% (default 95: the K = 0 target; 99 at K = 1)")
    p.add_argument("--max-drop", dest="max_drop", type=float, default=5.0,
                   help="most points a perturbed level may lose against the clean mean (default 5)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the verdict as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is not met (for scripts)")
    args = p.parse_args(argv)
    try:
        verdict = check_targets(read_results(args.results), args.method, args.clean_min, args.max_drop)
    except TargetsInputError as exc:
        print(f"targets: {exc}", file=sys.stderr)
        return 2
    print(report(verdict))
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(verdict, indent=1))
    return 1 if args.strict and not (verdict["clean"]["met"] and verdict["within"]["met"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
