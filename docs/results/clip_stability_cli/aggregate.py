"""Compare `simgen evaluate --clip-stability` (runs/s29/clip_cli) with the benchmark's per-clip ensemble
(docs/results/seeds41-43/recipesclip_k1_seed*.json), clip by clip, on the clean and compressed test clips.

    python docs/results/clip_stability_cli/aggregate.py [OUT] > docs/results/clip_stability_cli/summary.json
"""
import glob
import json
import sys

out_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/s29/clip_cli"
levels = {"clean": None, "compression@32": "32", "compression@40": "40", "compression@48": "48"}
rows = {c: dict(cli_correct=0, benchmark_correct=0, clips=0, disagree=[]) for c in levels}
files = sorted(glob.glob(f"{out_dir}/seed*_s*.json"))
for path in files:
    seed, fold = path.rsplit("/", 1)[1][4:-5].split("_")
    cli = json.load(open(path))
    bench = [r for r in json.load(open(f"docs/results/seeds41-43/recipesclip_k1_seed{seed}.json"))["runs"]
             if r["fold"] == fold][0]
    for cond, level in levels.items():
        per_class = cli["per_class"] if level is None else cli["perturbed"]["compression"][level]["per_class"]
        recorded = bench["predictions"] if level is None else bench["conditions"][cond]["predictions"]
        for p in recorded:
            truth = p["clip"].split("/")[0]  # weizmann4_dev keeps each class in a folder of its name
            right_cli, right_bench = per_class[truth] == 1.0, p["predicted"] == truth  # one clip a class a person
            r = rows[cond]
            r["clips"] += 1
            r["cli_correct"] += right_cli
            r["benchmark_correct"] += right_bench
            if right_cli != right_bench:
                r["disagree"].append(f"seed {seed} {p['clip']}: cli {'right' if right_cli else 'wrong'}")
for r in rows.values():
    r["cli_accuracy"] = round(100 * r["cli_correct"] / max(r["clips"], 1), 1)
    r["benchmark_accuracy"] = round(100 * r["benchmark_correct"] / max(r["clips"], 1), 1)
print(json.dumps(dict(files=files, conditions=rows), indent=1))
