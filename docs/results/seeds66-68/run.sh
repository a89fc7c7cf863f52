#!/usr/bin/env bash
# Session 37, plan for the next run (the commit that added this file, before any run of these seeds): the adopted
# targets configuration (pipelines/sim2real_targets.sh as of this commit: the robust member's weights x1.5 at K = 1,
# adopted under plan seeds63-65) on new seeds 66-68, K = 1 then K = 0 per seed, then the segmentation of its kept
# models (docs/results/segmentation_seeds32-37/run.sh with TARGETS_DIR=OUT). Two uses:
#   1. the first runs of the pipeline with x1.5 at K = 1 from end to end: its verdicts (clean K = 1 >= 99,
#      K = 0 >= 95, levels within 5), times and segmentation are reported whatever they show;
#   2. the third planned test of the clutter gate at K = 0 (docs/results/seeds55-57/fuse.py, unchanged: a clip whose
#      clutter exceeds 0.25 takes the robust member's scores alone). It passed plan seeds55-57 at K = 0 (10 against 8
#      levels, 89.8 against 87.5) and plan seeds58-59 (10 against 9, 93.0 against 91.4, two seeds, not adopted);
#      before this plan it was also run on the seen seeds 60-62 (7 against 7 levels, 91.1 against 90.1, clean 100
#      both) and 63-65 (11 against 9, 91.4 against 90.0, clean 98.3 both): development, not evidence. Judged over
#      66-68 at K = 0 against the adopted fusion of the same runs by the same rule: at least as many levels within 5
#      points, a clean mean not lower, a level mean higher. A pass adopts the gate at K = 0 (the ensemble stage then
#      needs it as an option); a fail leaves the pipeline unchanged. Nothing is judged at K = 1 (the gate failed
#      there on 55-57).
#   bash docs/results/seeds66-68/run.sh [OUT]     (default OUT runs/s37/targets66)
#   python docs/results/seeds55-57/fuse.py OUT runs/s37/gated66 0:66 0:67 0:68
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-66 67 68} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s37/targets66}"
