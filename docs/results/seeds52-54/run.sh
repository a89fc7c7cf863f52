#!/usr/bin/env bash
# Session 34, plan (the commit that added this file, before any run of these seeds): the adopted targets
# configuration (pipelines/sim2real_targets.sh, unchanged) on new seeds 52-54, K = 1 then K = 0 per seed, with
# session 33's loop. More evidence for the configuration as it stands, nothing to choose: its verdicts (clean
# K = 1 >= 99, K = 0 >= 95, levels within 5), times and, afterwards, the segmentation of its kept models
# (docs/results/segmentation_seeds32-37/run.sh with TARGETS_DIR=OUT) are reported whatever they show.
#   bash docs/results/seeds52-54/run.sh [OUT]     (default OUT runs/s34/targets)
set -euo pipefail
SEEDS=${SEEDS:-52 53 54} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s34/targets}"
