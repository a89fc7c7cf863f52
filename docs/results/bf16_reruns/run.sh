#!/usr/bin/env bash
# Session 32, plan (the commit that added this file, before either run): the targets pipeline, unchanged, at K = 1
# on seeds 46 and 47 again, on a 2-core VM whose CPU has bf16 instructions (so the sim-only trainings run under
# bf16 autocast, the pipeline's default there; sessions 30-31 ran both seeds in fp32 on VMs without them). Two
# questions, nothing chosen on the answers:
#   1. time: does one K = 1 seed of today's configuration fit in 30 minutes on such a VM (seed 48 did: 1371 s)?
#   2. precision: does bf16 change the ensemble's answers against the committed fp32 results of the same seeds
#      (compare.py: predicted class of every (fold, condition, clip) entry, accuracy of every level)?
# Added in session 32 before its run (after seeds 46-47 had started, none finished): seed 48 once more in fp32 on
# the same VM, after them, for the whole pipeline's bf16/fp32 time ratio on one machine and the same question 2
# the other way round (committed seed 48 is bf16):
#   PRECISION=fp32 SEEDS=48 bash docs/results/bf16_reruns/run.sh runs/s32/fp32
# A fresh OUT, so no sim-only model is reused from another K:
#   bash docs/results/bf16_reruns/run.sh [OUT]     (default runs/s32/bf16)
#   python docs/results/bf16_reruns/compare.py [OUT] > docs/results/bf16_reruns/summary.json
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-runs/s32/bf16}
for s in ${SEEDS:-46 47}; do
  PRECISION=${PRECISION:-bf16} bash pipelines/sim2real_targets.sh --seed "$s" --shots 1 --out "$OUT"
done
