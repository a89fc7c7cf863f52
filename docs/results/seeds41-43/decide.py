"""The adoption rule of plan 04fa56a, applied to the committed verdicts of both ensemble rules (seeds 41-43):

    python docs/results/seeds41-43/decide.py > docs/results/seeds41-43/decision.json

Per-clip stability weights ("recipesclip") replace today's fold weights ("recipes") only if at K = 1 they
(a) keep the clean mean >= 99, (b) hold at least as many of the 14 levels within 5 points and (c) raise the mean
of the 14 levels, and at K = 0 they do not lose clean >= 95 (where today's rule has it). Exit 1 when a verdict
file is missing or covers other seeds than the plan's.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
PLAN_SEEDS = [41, 42, 43]


def verdict(name: str) -> dict:
    path = HERE / f"verdict_{name}.json"
    if not path.is_file():
        sys.exit(f"decide: {path} missing (see docs/sim2real-log.md, "Seeds 41-43", for the command)")
    v = json.loads(path.read_text())
    if sorted(v["seeds"]) != PLAN_SEEDS:
        sys.exit(f"decide: {path} covers seeds {v['seeds']}, the plan needs {PLAN_SEEDS}")
    return v


today, clip = verdict("recipes_k1"), verdict("recipesclip_k1")
today0, clip0 = verdict("recipes_k0"), verdict("recipesclip_k0")
checks = {
    "a_clean_k1_at_least_99": clip["clean"]["mean"] >= 99,
    "b_levels_within_5_not_fewer": clip["within"]["count"] >= today["within"]["count"],
    "c_levels_mean_higher": clip["levels_mean"] > today["levels_mean"],
    "k0_clean_95_kept": clip0["clean"]["mean"] >= 95 or today0["clean"]["mean"] < 95,
}
summary = {rule: {f"k{k}": dict(clean=v["clean"]["mean"], within=v["within"]["count"], levels_mean=v["levels_mean"])
                  for k, v in ((1, k1), (0, k0))}
           for rule, k1, k0 in (("today (fold weights)", today, today0), ("per-clip stability", clip, clip0))}
print(json.dumps(dict(plan="04fa56a", seeds=PLAN_SEEDS, summary=summary, checks=checks,
                      adopted=all(checks.values())), indent=1))
