"""The rule of plan ffa999e (last_epoch.sh) applied to the committed results of seeds 85-86:

    python docs/results/seeds84-86/judge_last.py > docs/results/seeds84-86/decision_last.json

The candidate (both members' sim-only models at their last epoch, last_epoch/) is "promising" if at K = 1 and at
K = 0 its clean mean is not lower than the pipeline's on the same seeds, it holds at least as many of the 14 levels
within 5 points, and its level mean is higher. The verdicts are the targets' own (`check_targets`, as
`python -m simgen.adapt.benchmark.targets` writes them to verdict_recipes[_last]_kK_s85-86.json).
"""
import json
from pathlib import Path

from simgen.adapt.benchmark.targets import check_targets, read_results

HERE = Path(__file__).parent
PLAN_SEEDS = [85, 86]
CLEAN_MIN = {1: 99, 0: 95}


def verdict(folder: Path, k: int) -> dict:
    """The recipe ensemble's verdict over the plan's seeds at K = ``k`` from ``folder``'s results."""
    return check_targets(read_results(folder / f"recipes_k{k}_seed{s}.json" for s in PLAN_SEEDS), "recipes",
                         clean_min=CLEAN_MIN[k], max_drop=5)


def main() -> None:
    checks, summary = {}, {}
    for k in (1, 0):
        today, last = verdict(HERE, k), verdict(HERE / "last_epoch", k)
        summary[f"k{k}"] = {rule: dict(clean=v["clean"]["mean"], within=v["within"]["count"],
                                       levels_mean=v["levels_mean"])
                            for rule, v in (("pipeline (best epoch)", today), ("last epoch", last))}
        checks[f"k{k}_clean_not_lower"] = last["clean"]["mean"] >= today["clean"]["mean"]
        checks[f"k{k}_levels_within_5_not_fewer"] = last["within"]["count"] >= today["within"]["count"]
        checks[f"k{k}_levels_mean_higher"] = last["levels_mean"] > today["levels_mean"]
    print(json.dumps(dict(plan="ffa999e", seeds=PLAN_SEEDS, summary=summary, checks=checks,
                          promising=all(checks.values())), indent=1))


if __name__ == "__main__":
    main()
