#!/usr/bin/env bash
# Session 40, plan for the run after seeds 78-80 (the commit that added this file, made after 78-80 were judged and
# before any run of these seeds): the pipeline as it stands (pipelines/sim2real_targets.sh unchanged: x1.5 at K = 1,
# the clutter gate 0.25 at K = 0) on new seeds 81-83, K = 1 then K = 0 per seed, nothing else running on the
# machine, then the segmentation of its kept models with the gate at K = 0, as plans seeds75-77 and 78-80 did. One
# use: more evidence for the pipeline; its verdicts, times and segmentation are reported whatever they show. No
# candidate is judged on these seeds. Reported beside it, deciding nothing: the same ensemble stage without the gate
# at K = 0 (as on 72-80) and without x1.5 at K = 1 (how often x1.5 costs a clean clip on new seeds; on 75-77 it cost
# one, seen post hoc; on 78-80 none). A set may span sessions: seeds left unrun are run by the next session.
#   bash docs/results/seeds81-83/run.sh [OUT]     (default OUT runs/s40/targets81)
#   SEEDS="81 82 83" TARGETS_DIR=OUT CLUTTER_GATE_K0=0.25 SEG_OUT=runs/seg81 \
#     bash docs/results/segmentation_seeds32-37/run.sh
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-81 82 83} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s40/targets81}"
