#!/usr/bin/env bash
# Session 39, plan for the next run (the commit that added this file, made after plan seeds72-74 was judged and before
# any run of these seeds): the pipeline as it stands (pipelines/sim2real_targets.sh unchanged: x1.5 at K = 1, the
# clutter gate 0.25 at K = 0) on new seeds 75-77, K = 1 then K = 0 per seed, nothing else running on the machine,
# then the segmentation of its kept models with the gate at K = 0, as plans seeds69-71 and 72-74 did. One use: more
# evidence for the pipeline; its verdicts, times and segmentation are reported whatever they show. No candidate is
# judged on these seeds (the clutter gate at K = 1 failed its second plan on 72-74 and is not tried again here).
#   bash docs/results/seeds75-77/run.sh [OUT]     (default OUT runs/s39/targets75)
#   SEEDS="75 76 77" TARGETS_DIR=OUT CLUTTER_GATE_K0=0.25 SEG_OUT=runs/s39/seg75 \
#     bash docs/results/segmentation_seeds32-37/run.sh
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
SEEDS=${SEEDS:-75 76 77} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s39/targets75}"
