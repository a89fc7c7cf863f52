"""Compare the per-clip ensembles of docs/results/clip_stability_skip/run.sh with the results they replace: every
(fold, condition, clip) must keep its predicted class; also how many clips were measured and the stage's seconds.

    .venv/bin/python docs/results/clip_stability_skip/compare.py [OUT] > docs/results/clip_stability_skip/summary.json

The committed summary.json is session 29's output, made before a fix in session 32: it counts each clean clip twice
(320 entries a seed where there are 300 distinct ones: 20 clips x 15 conditions).
"""
import glob
import json
import sys

from simgen.adapt.benchmark.ensemble import _condition_predictions

out_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/s29/skip"
rows = []
for tpath in sorted(glob.glob(f"{out_dir}/time_k*_seed*.json")):
    t = json.load(open(tpath))
    new = json.load(open(f"{out_dir}/recipes_k{t['shots']}_seed{t['seed']}.json"))
    old = json.load(open(t["before"]))
    same = changed = measured = 0
    for a, b in zip(old["runs"], new["runs"]):
        assert (a["seed"], a["fold"]) == (b["seed"], b["fold"])
        for cond in a["conditions"]:  # "clean" among them: session 29 listed it twice, so counted its clips twice
            for x, y in zip(_condition_predictions(a, cond), _condition_predictions(b, cond), strict=True):
                same += x["predicted"] == y["predicted"]
                changed += x["predicted"] != y["predicted"]
                measured += any(v is not None for v in y["member_stability"])
    rows.append(dict(seed=t["seed"], shots=t["shots"], before=t["before"], clips=same + changed, same_class=same,
                     changed_class=changed, stability_measured_on=measured, seconds=t["seconds"]))
print(json.dumps(rows, indent=1))
