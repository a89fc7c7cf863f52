#!/usr/bin/env bash
# Session 38, plan for the next run (the commit that added this file, before any run of these seeds): the pipeline as
# it stands (pipelines/sim2real_targets.sh as of this commit: x1.5 at K = 1, the clutter gate 0.25 at K = 0) on new
# seeds 72-74, K = 1 then K = 0 per seed, nothing else running on the machine, then the segmentation of its kept
# models with the gate at K = 0, as plan seeds69-71 did. Two uses:
#   1. more evidence for the pipeline: its verdicts, times and segmentation are reported whatever they show;
#   2. the second planned test of the clutter gate at K = 1 on top of x1.5 (docs/results/seeds55-57/fuse.py
#      unchanged, on the pipeline's K = 1 files). It passed plan seeds69-71 (10 against 9 levels, 93.5 against 92.4,
#      clean 100 both); the gate alone failed at K = 1 on 55-57 (without x1.5). Judged over 72-74 at K = 1 against the
#      pipeline's K = 1 results of the same runs by the same rule: at least as many levels within 5 points, a clean
#      mean not lower, a level mean higher. A pass adopts it at K = 1 (sim2real_targets.sh --shots 1 then passes
#      --clutter-gate 0.25 as well; K >= 2 stays without it, untested); a fail leaves the pipeline unchanged.
#   bash docs/results/seeds72-74/run.sh [OUT]     (default OUT runs/s39/targets72)
#   python docs/results/seeds55-57/fuse.py OUT runs/s39/gated72 1:72 1:73 1:74
#   SEEDS="72 73 74" TARGETS_DIR=OUT CLUTTER_GATE_K0=0.25 SEG_OUT=runs/s39/seg72 \
#     bash docs/results/segmentation_seeds32-37/run.sh
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-72 73 74} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s39/targets72}"
