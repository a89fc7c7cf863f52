#!/usr/bin/env bash
# Session 29: the per-clip ensemble stage measuring stability only where the fused members disagree
# (adapt/benchmark/clip_stability.py undecided_clips) against the committed results of the rule that measured it on
# every clip: the same predicted class on every clip of every condition, and its time. Needs each seed's saved models
# (not committed): seeds 42-43 in runs/s28/targets, 44-45 in runs/s29/targets.
#   bash docs/results/clip_stability_skip/run.sh [OUT]     (default runs/s29/skip)
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-runs/s29/skip}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"
for spec in ${RUNS:-42:1:runs/s28/targets:docs/results/seeds41-43/recipesclip 43:1:runs/s28/targets:docs/results/seeds41-43/recipesclip 42:0:runs/s28/targets:docs/results/seeds41-43/recipesclip 45:1:runs/s29/targets:docs/results/seeds44-46/recipes}; do
  IFS=: read -r s k models before <<< "$spec"
  start=$(date +%s)
  "$PY" -m simgen.adapt.benchmark.ensemble --member "best=$models/default_k${k}_seed$s.json" \
    --member "best=$models/robust_k${k}_seed$s.json" --member-models "$models/default_models_k$k" \
    --member-models "$models/robust_models_k$k" --clip-stability --name recipes --out "$OUT/recipes_k${k}_seed$s.json" \
    > /dev/null
  echo "{\"seed\": $s, \"shots\": $k, \"seconds\": $(( $(date +%s) - start )), \"before\": \"${before}_k${k}_seed$s.json\"}" \
    > "$OUT/time_k${k}_seed$s.json"
done
