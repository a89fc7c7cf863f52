#!/usr/bin/env bash
# Session 29: the targets configuration as adopted in session 28 (per-clip stability weights), unchanged, on new
# seeds 44-46 that no choice was made on (plan: the commit that added this file). K = 1, then K = 0, per seed.
#   bash docs/results/seeds44-46/run.sh [OUT]     (default OUT runs/s29/targets; about 45 min a seed on a 2-core VM)
#   SEEDS="46" bash docs/results/seeds44-46/run.sh     (the seeds a later session has left)
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-runs/s29/targets}
for s in ${SEEDS:-44 45 46}; do
  for k in 1 0; do
    bash pipelines/sim2real_targets.sh --seed "$s" --shots "$k" --out "$OUT"
  done
done
