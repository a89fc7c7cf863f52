"""The rule of plan ffa999e (last_epoch.sh) applied to the committed verdicts of seeds 85-86:

    python docs/results/seeds84-86/judge_last.py > docs/results/seeds84-86/decision_last.json

The candidate (both members' sim-only models at their last epoch) is "promising" if at K = 1 and at K = 0 its clean
mean is not lower than the pipeline's on the same seeds, it holds at least as many of the 14 levels within 5
points, and its level mean is higher. Exit 1 when a verdict file is missing or covers other seeds than the plan's.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
PLAN_SEEDS = [85, 86]


def verdict(name: str) -> dict:
    path = HERE / f"verdict_{name}.json"
    if not path.is_file():
        sys.exit(f"judge_last: {path} missing (see docs/sim2real-log.md, \"Seeds 84-86\", for the command)")
    v = json.loads(path.read_text())
    if sorted(v["seeds"]) != PLAN_SEEDS:
        sys.exit(f"judge_last: {path} covers seeds {v['seeds']}, the plan needs {PLAN_SEEDS}")
    return v


def main() -> None:
    checks, summary = {}, {}
    for k in (1, 0):
        today, last = verdict(f"recipes_k{k}_s85-86"), verdict(f"recipes_last_k{k}_s85-86")
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
