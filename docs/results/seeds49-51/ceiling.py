"""How much any fusion of the two members could give (plan seeds49-51, run.sh, part 2): per condition, each
member's accuracy, the adopted ensemble's, how many clips the members disagree on, and the ceiling of a fusion
that picks one member's class per clip: a clip counts as right when either member names its class. A level whose
ceiling is more than 5 points under clean cannot be held by re-weighting these members, whatever the rule.

    python docs/results/seeds49-51/ceiling.py RUN_DIR OUT.json K:SEED [K:SEED ...]

RUN_DIR holds the targets pipeline's full member files ``default_kK_seedS.json``, ``robust_kK_seedS.json`` (with
every clip's prediction) and the ensemble's ``recipes_kK_seedS.json``. Labels are read here only to count.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simgen.adapt.benchmark.ensemble import _condition_predictions


def ceiling(run_dir: Path, k: int, seed: int) -> dict:
    tag = f"k{k}_seed{seed}"
    members = [[r for r in json.loads((run_dir / f"{m}_{tag}.json").read_text())["runs"] if r["method"] == "best"]
               for m in ("default", "robust")]
    fused = json.loads((run_dir / f"recipes_{tag}.json").read_text())["runs"]
    label = {p["clip"]: p["label"] for run in members[0] for p in run["predictions"]}
    conditions = ["clean", *(c for c in fused[0]["conditions"] if c != "clean")]
    out = {}
    for condition in conditions:
        right = dict(default=0, robust=0, recipes=0, either=0, clips=0, disagree=0)
        for d_run, r_run, e_run in zip(*members, fused, strict=True):
            assert d_run["fold"] == r_run["fold"] == e_run["fold"]
            for a, b, e in zip(*(_condition_predictions(x, condition) for x in (d_run, r_run, e_run)), strict=True):
                truth = label[a["clip"]]
                right["clips"] += 1
                right["disagree"] += a["predicted"] != b["predicted"]
                right["default"] += a["predicted"] == truth
                right["robust"] += b["predicted"] == truth
                right["recipes"] += e["predicted"] == truth
                right["either"] += truth in (a["predicted"], b["predicted"])
        n = right.pop("clips")
        out[condition] = {key: (v if key == "disagree" else round(100 * v / n, 1)) for key, v in right.items()}
    return out


if __name__ == "__main__":
    run_dir, out_path, pairs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    table = {}
    for pair in pairs:
        k, seed = (int(x) for x in pair.split(":"))
        table[f"k{k}_seed{seed}"] = ceiling(run_dir, k, seed)
    out_path.write_text(json.dumps(table, indent=1) + "\n")
    for tag, rows in table.items():
        clean = rows["clean"]["recipes"]
        print(f"{tag}: condition, default / robust / ensemble / either member right (ceiling), clips disagreed on")
        for condition, r in rows.items():
            flag = "" if r["either"] >= clean - 5 else "  ceiling more than 5 under the ensemble's clean"
            print(f"  {condition:15s} {r['default']:5.1f} / {r['robust']:5.1f} / {r['recipes']:5.1f} / "
                  f"{r['either']:5.1f}, {r['disagree']:2d}{flag}")
