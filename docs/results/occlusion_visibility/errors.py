"""The recipe ensemble's errors at occlusion 0.45, K = 1, from the committed results of seeds 32-43 (fold weights; truth -> prediction).

    python docs/results/occlusion_visibility/errors.py > docs/results/occlusion_visibility/errors.json
"""
import collections
import glob
import json

files = sorted(f for d in ("seeds32-34", "seed35", "seeds35-37", "seeds38-40", "seeds41-43")
               for f in glob.glob(f"docs/results/{d}/recipes_k1_seed*.json"))
errors = collections.Counter()
clips = 0
for path in files:
    for run in json.load(open(path))["runs"]:
        for p in run["conditions"]["occlusion@0.45"]["predictions"]:
            clips += 1
            truth = p["clip"].split("/")[0]  # weizmann4_dev keeps each class in a folder of its name
            if truth != p["predicted"]:
                errors[f"{truth} -> {p['predicted']}"] += 1
print(json.dumps(dict(files=files, clips=clips, errors=sum(errors.values()), by_pair=dict(errors.most_common())),
                 indent=1))
