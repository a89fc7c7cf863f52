"""Compare the reruns of docs/results/bf16_reruns/run.sh with the committed results of the same seeds
(docs/results/seeds46-48/recipes_k1_seedS.json, made at the precision their times file names): per seed, how many
(fold, condition, clip) entries keep their predicted class, the largest change of a class score, each level's
accuracy both ways, and both runs' precision and seconds.

    .venv/bin/python docs/results/bf16_reruns/compare.py [OUT] > docs/results/bf16_reruns/summary.json
    .venv/bin/python docs/results/bf16_reruns/compare.py runs/s32/fp32 > docs/results/bf16_reruns/summary_fp32_seed48.json
"""
import json
import sys
from pathlib import Path

from simgen.adapt.benchmark.ensemble import _condition_predictions


def levels(result: dict) -> dict:
    rec = result["methods"]["recipes"]
    return {"clean": rec["accuracy_mean"],
            **{f"{name}@{level}": acc for name, by_level in rec["perturbations"].items()
               for level, acc in by_level.items()}}


out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/s32/bf16")
committed = Path(__file__).parent.parent / "seeds46-48"
rows = []
for new_path in sorted(out_dir.glob("recipes_k1_seed*.json")):
    seed = int(new_path.stem.rsplit("seed", 1)[1])
    old_path = committed / new_path.name
    if not old_path.is_file():
        sys.exit(f"compare: no committed result {old_path} for {new_path}")
    old, new = json.loads(old_path.read_text()), json.loads(new_path.read_text())
    same = changed = 0
    score_change = 0.0
    for a, b in zip(old["runs"], new["runs"], strict=True):
        assert (a["seed"], a["fold"]) == (b["seed"], b["fold"]), (a["fold"], b["fold"])
        for cond in a["conditions"]:  # "clean" among them
            for x, y in zip(_condition_predictions(a, cond), _condition_predictions(b, cond), strict=True):
                assert x["clip"] == y["clip"], (x["clip"], y["clip"])
                same += x["predicted"] == y["predicted"]
                changed += x["predicted"] != y["predicted"]
                score_change = max(score_change, *(abs(p - q) for p, q in zip(x["scores"], y["scores"], strict=True)))

    times = {k: json.loads((d / f"times_k1_seed{seed}.json").read_text())
             for k, d in (("committed", committed), ("rerun", out_dir))}
    rows.append(dict(seed=seed, entries=same + changed, same_class=same, changed_class=changed,
                     largest_score_change=round(score_change, 4),
                     accuracy={"committed": levels(old), "rerun": levels(new)},
                     precision={k: t["precision"] for k, t in times.items()},
                     seconds={k: t["benchmark_seconds"] for k, t in times.items()}))
print(json.dumps(rows, indent=1))
