#!/usr/bin/env bash
# Session 36, plan for the next run (the commit that added this file, before any run of these seeds): the adopted
# targets configuration (pipelines/sim2real_targets.sh, unchanged) on new seeds 63-65, K = 1 then K = 0 per seed,
# with session 33's loop, then the segmentation of its kept models (docs/results/segmentation_seeds32-37/run.sh
# with TARGETS_DIR=OUT). Two uses:
#   1. more evidence for the configuration as it stands: its verdicts (clean K = 1 >= 99, K = 0 >= 95, levels
#      within 5), times and segmentation are reported whatever they show;
#   2. the second test of the K = 1 candidate of plan seeds60-62, which passed there: the robust member's fusion
#      weights x1.5 at K = 1 (docs/results/seeds60-62/reweigh.py, unchanged: TAG robustx1_5, ALPHA 1.5, on the
#      K = 1 runs). Judged over 63-65 against the adopted fusion of the same runs (paired: the same models), by the
#      same rule: at least as many levels within 5 points, a clean mean not lower, a level mean higher. A pass on
#      this second set of new seeds adopts it (pipelines/sim2real_targets.sh then fuses with it at K = 1); a fail
#      leaves the pipeline unchanged. Nothing is judged at K = 0 (re-weighing closed there: log "Seeds 60-62").
#   bash docs/results/seeds63-65/run.sh [OUT]     (default OUT runs/s37/targets)
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-63 64 65} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s37/targets}"
