"""Summary of the session-25 segmentation runs (one `simgen evaluate --task segment` JSON per K, seed and person).

    python docs/results/segmentation_seeds32-37/aggregate.py runs/s25/seg \
        > docs/results/segmentation_seeds32-37/summary.json

Each run's figure pools its person's 2 chained videos; a set's figure is the mean over its (seed, person) runs.
Other sets (session 26): `aggregate.py runs/s26/seg "seeds 38-40=38,39,40"`.
"""
import glob
import json
import statistics
import sys

SETS = ({"seeds 32-34": {"32", "33", "34"}, "seeds 35-37": {"35", "36", "37"}} if len(sys.argv) < 3 else
        {name: set(seeds.split(",")) for name, seeds in (a.split("=") for a in sys.argv[2:])})
runs = []
for path in sorted(glob.glob(f"{sys.argv[1]}/k*_seed*_s*.json")):
    name = path.rsplit("/", 1)[-1][:-5]
    k, seed, person = name.split("_")
    d = json.load(open(path))
    parts = {"ensemble": d["segment_chained"]["clean"]}
    parts.update({member: row["segment_chained"] for member, row in zip(("default", "robust"), d["ensemble"]["rows"])})
    for config, scores in parts.items():
        for decoding in ("viterbi", "raw"):
            s = scores[decoding]
            runs.append(dict(shots=int(k[1:]), seed=seed[4:], person=person, config=config, decoding=decoding,
                             weights=d["ensemble"]["member_weights"], **{m: round(s[m], 4) for m in
                                                                         ("f1@25", "edit", "frame_accuracy")}))
means = []
for (shots, config, decoding) in sorted({(r["shots"], r["config"], r["decoding"]) for r in runs}):
    for set_name, seeds in SETS.items():
        sel = [r for r in runs
               if (r["shots"], r["config"], r["decoding"]) == (shots, config, decoding) and r["seed"] in seeds]
        means.append(dict(shots=shots, config=config, decoding=decoding, set=set_name, runs=len(sel),
                          **{m: round(statistics.mean(r[m] for r in sel), 3)
                             for m in ("f1@25", "edit", "frame_accuracy")},
                          per_seed={s: [round(statistics.mean(r[m] for r in sel if r["seed"] == s), 3)
                                        for m in ("f1@25", "edit")] for s in sorted(seeds)}))
json.dump(dict(means=means, runs=runs), sys.stdout, indent=1)
