#!/usr/bin/env bash
# Session 43, plan (the commit that added this file, made before any run of seeds 90-92): the pipeline as adopted in
# session 43 (pipelines/sim2real_targets.sh with --sim-select last: both members' sim-only models at their last
# epoch), unchanged, on new seeds 90-92, K = 1 then K = 0 per seed, default precision (bf16 on a CPU with bf16
# instructions), nothing else running. No candidate is judged: it is the first set of the adopted configuration run
# from end to end, its verdicts, times and segmentation (analyse.sh) reported whatever they show. Seed 90 may run in
# session 43 and 91-92 in a later one (its results are committed as they come, so a fresh VM can go on).
#   bash docs/results/seeds90-92/run.sh [OUT]     (default OUT runs/s43/targets90; SEEDS="91 92" for the rest)
#   bash docs/results/seeds81-83/analyse.sh OUT 90 docs/results/seeds90-92 runs/s44/seg90
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-90 91 92} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s43/targets90}"
