"""The rule of plan bd86709 (run.sh) applied to the committed results of seeds 87-89:

    python docs/results/seeds87-89/judge.py > docs/results/seeds87-89/decision_last.json

Adopt `--sim-select last` (both members' sim-only models at their last epoch, last_epoch/) in the pipeline if at
K = 1 and at K = 0 separately its clean mean over the three seeds is not lower than the pipeline's (best epoch on
the synthetic validation clips, this folder) and its mean over the 14 perturbed levels is not lower. Levels within
5 points are reported, not judged. Verdicts are the targets' own (`check_targets`).
"""
import json
from pathlib import Path

from simgen.adapt.benchmark.targets import check_targets, read_results

HERE = Path(__file__).parent
SEEDS = [87, 88, 89]
BEST, LAST = "pipeline (best epoch)", "last epoch"
ARMS = {BEST: HERE, LAST: HERE / "last_epoch"}
CLEAN_MIN = {1: 99, 0: 95}


def main() -> None:
    summary, checks = {}, {}
    for k in (1, 0):
        found = {}
        for arm, folder in ARMS.items():
            v = check_targets(read_results(folder / f"recipes_k{k}_seed{s}.json" for s in SEEDS), "recipes",
                              clean_min=CLEAN_MIN[k], max_drop=5)
            found[arm] = dict(clean=v["clean"]["mean"], clean_per_seed=v["clean"]["per_seed"],
                              within=v["within"]["count"], levels_mean=v["levels_mean"])
        summary[f"k{k}"] = found
        best, last = found[BEST], found[LAST]
        checks[f"k{k}_clean_not_lower"] = last["clean"] >= best["clean"]
        checks[f"k{k}_levels_mean_not_lower"] = last["levels_mean"] >= best["levels_mean"]
    print(json.dumps(dict(plan="bd86709", seeds=SEEDS, summary=summary, checks=checks,
                          adopt=all(checks.values())), indent=1))


if __name__ == "__main__":
    main()
