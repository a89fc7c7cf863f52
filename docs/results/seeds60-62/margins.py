"""After plan seeds60-62 (development, not evidence): on which clean clips does the robust member's weight decide?

For every clean test clip of seeds 49-62 on which the two members name different classes (elsewhere no weighting
changes the answer), the multipliers ALPHA of the robust member's weight (0.5 to 10, step 0.01) under which the
adopted fusion (fold weights times the recorded per-clip stabilities, as reweigh.py) names the right class, and
which member was right. Reads the full member files of sessions 33-36 (``runs/``, not in the repository).

    python docs/results/seeds60-62/margins.py
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from simgen.train.ensemble_scores import clip_stability_weights

_spec = importlib.util.spec_from_file_location("dev_sweep", Path(__file__).with_name("dev_sweep.py"))
dev_sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev_sweep)

#: seed -> the folder of its full runs: the sweep's seen seeds 49-59, then 60-62
RUNS = {seed: where for where, seeds in {**dev_sweep.SETS, "runs/s36/targets": (60, 61, 62)}.items() for seed in seeds}
ALPHAS = np.round(np.arange(0.5, 10.001, 0.01), 2)


def main() -> None:
    for shots in (0, 1):
        rows = []
        for seed, where in RUNS.items():
            try:
                adopted = json.load(open(f"{where}/recipes_k{shots}_seed{seed}.json"))
            except FileNotFoundError:  # 58-59: K = 0 only
                continue
            members = [{r["fold"]: r for r in json.load(open(f"{where}/{m}_k{shots}_seed{seed}.json"))["runs"]
                        if r["method"] == "best"} for m in ("default", "robust")]
            classes = adopted["config"]["classes"]
            for run in adopted["runs"]:
                for j, fused in enumerate(run["predictions"]):
                    default, robust = (np.array(m[run["fold"]]["predictions"][j]["scores"]) for m in members)
                    if default.argmax() == robust.argmax():
                        continue
                    stability = [np.nan if s is None else s for s in fused["member_stability"]]
                    w = clip_stability_weights(run["member_weights"], stability)  # clean clips: still camera, no gate
                    truth = classes.index(fused["label"])
                    right = ALPHAS[[(w[0] * default + a * w[1] * robust).argmax() == truth for a in ALPHAS]]
                    who = ("default" if default.argmax() == truth else "robust" if robust.argmax() == truth
                           else "neither")
                    span = f"{right.min():.2f}-{right.max():.2f}" if len(right) else "none"
                    rows.append(f"  seed {seed} {run['fold']} {fused['clip']}: right at x {span} ({who} member right)")
        print(f"K = {shots}: {len(rows)} clean clips on which the members disagree")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
