#!/usr/bin/env bash
# Session 27: the targets configuration on new seeds 41-42 (plan: empty commit 04fa56a), then the recipe
# ensemble rebuilt from the same members with per-clip stability weights (--clip-stability).
#   bash docs/results/seeds41-43/run.sh [OUT]     (default OUT runs/s27/targets; about 1 h a seed on a 2-core VM)
#   SEEDS="42 43" bash docs/results/seeds41-43/run.sh runs/s28/targets     (session 28: the remaining seeds of the plan)
# Session 27 ran the same commands from two steps: the pipeline from a snapshot of 5708650 (so that code could change
# meanwhile), the ensembles afterwards at e30a72a; seed 42 was stopped inside its robust member.
# Session 28 ran it at 2ef6775. Since 5d14250 the pipeline's own ensemble stage is the per-clip one, so at a later
# commit recipes_* equals recipesclip_*; the committed recipes_* (fold weights) come from the same ensemble command
# without --clip-stability.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-runs/s27/targets}
PY=${PY:-.venv/bin/python}
for s in ${SEEDS:-41 42}; do
  for k in 1 0; do
    bash pipelines/sim2real_targets.sh --seed "$s" --shots "$k" --out "$OUT"
    start=$(date +%s)
    "$PY" -m simgen.adapt.benchmark.ensemble --member "best=$OUT/default_k${k}_seed$s.json" \
      --member "best=$OUT/robust_k${k}_seed$s.json" --member-models "$OUT/default_models_k$k" \
      --member-models "$OUT/robust_models_k$k" --clip-stability --name recipes --out "$OUT/recipesclip_k${k}_seed$s.json"
    echo "{\"seed\": $s, \"shots\": $k, \"clip_ensemble_seconds\": $(( $(date +%s) - start ))}" > "$OUT/clip_times_k${k}_seed$s.json"
  done
done
