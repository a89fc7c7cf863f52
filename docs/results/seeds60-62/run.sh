#!/usr/bin/env bash
# Session 36, plan (the commit that added this file, before any run of these seeds): the adopted targets
# configuration (pipelines/sim2real_targets.sh, unchanged) on new seeds 60-62, K = 1 then K = 0 per seed, with
# session 33's loop, then the segmentation of its kept models (docs/results/segmentation_seeds32-37/run.sh with
# TARGETS_DIR=OUT). Two uses:
#   1. more evidence for the configuration as it stands: its verdicts (clean K = 1 >= 99, K = 0 >= 95, levels
#      within 5), times and segmentation are reported whatever they show;
#   2. the robust member's weight in the fusion, scaled (reweigh.py here, fixed in this commit): every fusion weight
#      of the robust (psdiff) member, stability and per-clip stability as adopted, multiplied by ALPHA. The candidates
#      were chosen on the full member files of seeds 49-59 (all seen; the sweep is in the log, section "Seeds 60-62"):
#      ALPHA = 3 at K = 0 (on 49-59: clean unchanged, levels within 5 summed over the four sets 33 -> 41 of 56, level
#      mean 89.3 -> 91.8; 3-5 is a plateau, clean first drops at 8) and ALPHA = 1.5 at K = 1 (49-57: clean unchanged,
#      28 -> 30 of 42 levels, 92.0 -> 92.7; clean drops at 2, so 1.5 sits at the edge). Each is judged at its own K
#      over 60-62 against the adopted fusion of the same runs (paired: the same models), and recorded as better only if
#      it holds at least as many levels within 5 points, its clean mean is not lower and its level mean is higher. A
#      pass at K = 0 is adopted (pipelines/sim2real_targets.sh --shots 0 then fuses with it); at K = 1 a pass is
#      recorded as promising only, since on the seen seeds 1.5 is one step from losing clean clips and K = 1 clean >=
#      99 is the target that binds.
#   bash docs/results/seeds60-62/run.sh [OUT]     (default OUT runs/s36/targets)
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-60 61 62} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s36/targets}"
