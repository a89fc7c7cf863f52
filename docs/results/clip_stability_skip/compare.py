"""Compare the per-clip ensembles of docs/results/clip_stability_skip/run.sh with the results they replace: every
(fold, condition, clip) must keep its predicted class; also how many clips were measured and the stage's seconds.

    python docs/results/clip_stability_skip/compare.py [OUT] > docs/results/clip_stability_skip/summary.json
"""
import glob
import json
import sys

out_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/s29/skip"
rows = []
for tpath in sorted(glob.glob(f"{out_dir}/time_k*_seed*.json")):
    t = json.load(open(tpath))
    new = json.load(open(f"{out_dir}/recipes_k{t['shots']}_seed{t['seed']}.json"))
    old = json.load(open(t["before"]))
    same = changed = measured = 0
    for a, b in zip(old["runs"], new["runs"]):
        assert (a["seed"], a["fold"]) == (b["seed"], b["fold"])
        for cond in ["clean", *a["conditions"]]:
            pa = a["predictions"] if cond == "clean" else a["conditions"][cond]["predictions"]
            pb = b["predictions"] if cond == "clean" else b["conditions"][cond]["predictions"]
            for x, y in zip(pa, pb):
                same += x["predicted"] == y["predicted"]
                changed += x["predicted"] != y["predicted"]
                measured += any(v is not None for v in y["member_stability"])
    rows.append(dict(seed=t["seed"], shots=t["shots"], before=t["before"], clips=same + changed, same_class=same,
                     changed_class=changed, stability_measured_on=measured, seconds=t["seconds"]))
print(json.dumps(rows, indent=1))
