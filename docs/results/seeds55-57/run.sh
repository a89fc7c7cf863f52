#!/usr/bin/env bash
# Session 35, plan (the commit that added this file, before any run of these seeds): the adopted targets
# configuration (pipelines/sim2real_targets.sh, unchanged) on new seeds 55-57, K = 1 then K = 0 per seed, with
# session 33's loop, then the segmentation of its kept models (docs/results/segmentation_seeds32-37/run.sh with
# TARGETS_DIR=OUT). Two uses:
#   1. more evidence for the configuration as it stands: its verdicts (clean K = 1 >= 99, K = 0 >= 95, levels
#      within 5), times and segmentation are reported whatever they show;
#   2. a fusion of the two members' scores other than the adopted one may be designed on the full member files of
#      seeds 52-54 (already seen) and fixed in a commit (fuse.py here) before any result of seed 55 is read. It is
#      then judged on 55-57 against the adopted fusion of the same runs (paired: the same models), at K = 1 and at
#      K = 0, and recorded as better only if at both K it holds at least as many levels within 5 points, its
#      clean mean is not lower and its level mean is higher. No such commit: part 2 is void.
#   bash docs/results/seeds55-57/run.sh [OUT]     (default OUT runs/s35/targets)
set -euo pipefail
SEEDS=${SEEDS:-55 56 57} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s35/targets}"
