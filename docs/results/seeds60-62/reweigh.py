"""Plan seeds60-62, part 2: the adopted fusion with the robust member's weight multiplied by ALPHA.

The adopted recipe ensemble (``pipelines/sim2real_targets.sh``) fuses the default member (whole-frame differences)
and the robust member (``psdiff``: stabilised differences cropped to the person) by a weighted mean of their clip
scores: each member's prediction stability on the fold's unlabelled real clips, times its per-clip stability where
the two name different classes, with the camera gate. Here every weight of the robust member is multiplied by
ALPHA before that mean; nothing else changes, and the per-clip stabilities are the ones the run recorded (they do
not depend on the weights: they are measured only where the members disagree). ALPHA = 1 gives back the run's
``recipes_kK_seedS.json`` clip for clip.

    python docs/results/seeds60-62/reweigh.py RUN_DIR OUT_DIR TAG ALPHA K:SEED [K:SEED ...]

RUN_DIR holds the targets pipeline's full member files (``default_kK_seedS.json``, ``robust_kK_seedS.json``) and
``recipes_kK_seedS.json``; OUT_DIR gets ``recipes_TAG_kK_seedS.json`` (method ``recipes``, for
``simgen.adapt.benchmark.targets``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from simgen.adapt.benchmark.ensemble import ensemble_members


def reweighed(run_dir: Path, shots: int, seed: int, alpha: float) -> dict:
    tag = f"k{shots}_seed{seed}"
    adopted = json.loads((run_dir / f"recipes_{tag}.json").read_text())
    runs = {(r["seed"], r["fold"]): r for r in adopted["runs"]}
    members = [("best", [json.loads((run_dir / f"{m}_{tag}.json").read_text())]) for m in ("default", "robust")]

    def weigh(s: int, fold: str) -> list[float]:
        default, robust = runs[(s, fold)]["member_weights"]
        return [default, robust * alpha]

    def recorded_stability(s: int, fold: str, got, needed) -> dict[str, np.ndarray]:
        run = runs[(s, fold)]
        out = {}
        for condition in needed:
            preds = run["predictions"] if condition == "clean" else run["conditions"][condition]["predictions"]
            out[condition] = np.array([[np.nan if x is None else x for x in p["member_stability"]]
                                       for p in preds]).T  # (members, clips)
        return out

    return ensemble_members(members, "recipes", camera_gate=adopted["config"]["camera_gate"], weigh=weigh,
                            clip_weigh=recorded_stability)


def main(argv: list[str]) -> None:
    run_dir, out_dir, tag, alpha = Path(argv[0]), Path(argv[1]), argv[2], float(argv[3])
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in argv[4:]:
        shots, seed = (int(v) for v in item.split(":"))
        result = reweighed(run_dir, shots, seed, alpha)
        result["config"]["member_weights"] += f"; the robust member's weights x {alpha:g} (plan seeds60-62)"
        path = out_dir / f"recipes_{tag}_k{shots}_seed{seed}.json"
        path.write_text(json.dumps(result) + "\n")
        print(f"wrote {path}: clean {result['methods']['recipes']['accuracy_mean']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
