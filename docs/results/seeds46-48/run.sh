#!/usr/bin/env bash
# Session 30, plan (the commit that added this file, before any result of seed 46 was seen): is the robust
# member alone as good as the two-member ensemble of pipelines/sim2real_targets.sh, on new seeds 46-48?
# Both come out of the same pipeline run (the ensemble's robust member is the robust recipe alone), so this
# runs the targets pipeline unchanged, K = 1 then K = 0 per seed, and decide.py applies the rule in its
# docstring to the verdicts:
#   bash docs/results/seeds46-48/run.sh [OUT]     (default OUT runs/s29/targets, where seed 46 of plan 7adf202 ran)
#   SEEDS="48" bash docs/results/seeds46-48/run.sh     (the seeds a later session has left)
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-runs/s29/targets}
for s in ${SEEDS:-46 47 48}; do
  for k in 1 0; do
    bash pipelines/sim2real_targets.sh --seed "$s" --shots "$k" --out "$OUT"
  done
done
