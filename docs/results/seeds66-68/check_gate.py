"""Does ensemble_members(clutter_gate=0.25) give docs/results/seeds55-57/fuse.py's gated results? Recorded weights and
per-clip stabilities, clutter measured again (clutter_measurer). Needs the full member files of runs/ (not committed).

    python docs/results/seeds66-68/check_gate.py runs/s37/targets runs/s37/gated63 63 64 65
"""
import json, sys
from pathlib import Path
import numpy as np
from simgen.adapt.benchmark.ensemble import ensemble_members
from simgen.adapt.benchmark.clutter_gate import clutter_measurer

run_dir, gated_dir = Path(sys.argv[1]), Path(sys.argv[2])
for seed in [int(s) for s in sys.argv[3:]]:
    tag = f"k0_seed{seed}"
    adopted = json.loads((run_dir / f"recipes_{tag}.json").read_text())
    runs = {(r["seed"], r["fold"]): r for r in adopted["runs"]}
    members = [("best", [json.loads((run_dir / f"{m}_{tag}.json").read_text())]) for m in ("default", "robust")]
    def weigh(s, f): return runs[(s, f)]["member_weights"]
    def stab(s, f, got, needed):
        run = runs[(s, f)]
        return {c: np.array([[np.nan if x is None else x for x in p["member_stability"]]
                             for p in (run["predictions"] if c == "clean" else run["conditions"][c]["predictions"])]).T
                for c in needed}
    measure = clutter_measurer(members, [str(run_dir / "default_models_k0"), str(run_dir / "robust_models_k0")])
    out = ensemble_members(members, "recipes", camera_gate=adopted["config"]["camera_gate"], weigh=weigh,
                           clip_weigh=stab, clutter_gate=0.25, clutter_of=measure)
    ref = json.loads((gated_dir / f"gated_{tag}.json").read_text())
    ref_clutter = json.loads((gated_dir / f"clutter_{tag}.json").read_text())
    n = diff = 0; maxd = maxc = 0.0; gates = [0, 0]
    for a, b in zip(out["runs"], ref["runs"]):
        for c in ["clean", *[k for k in a["conditions"] if k != "clean"]]:
            pa = a["predictions"] if c == "clean" else a["conditions"][c]["predictions"]
            pb = b["predictions"] if c == "clean" else b["conditions"][c]["predictions"]
            gates[0] += a["conditions"][c]["clutter_gated"]; gates[1] += b["conditions"][c]["clutter_gated"]
            for x, y in zip(pa, pb):
                n += 1; diff += x["predicted"] != y["predicted"]
                maxd = max(maxd, max(abs(u - v) for u, v in zip(x["scores"], y["scores"])))
            maxc = max(maxc, max(abs(x["clutter"] - v) for x, v in zip(pa, ref_clutter[c][a["fold"]])))
    print(seed, "pairs", n, "answers differ", diff, "max score diff", round(maxd, 6), "max clutter diff", maxc,
          "gated", gates, out["methods"]["recipes"]["accuracy_mean"], ref["methods"]["recipes"]["accuracy_mean"])
