#!/usr/bin/env bash
# Session 42, plan for seeds 84-86 (the commit that added this file, made before any run of these seeds): the
# pipeline as it stands (pipelines/sim2real_targets.sh unchanged: x1.5 at K = 1, the clutter gate 0.25 at K = 0)
# with its sim-only trainings in fp32 (PRECISION=fp32) on session 41's Intel Xeon VM, which has bf16 instructions
# and so would pick bf16 by default. Question: does the whole benchmark at K = 1, one seed, stay under 30 minutes
# on 2 CPU cores in fp32 (so far met in fp32 on 7 of 18 seeds, all on slower VMs and older pipelines), and do the
# clean and level targets hold when the training arithmetic changes? K = 1 then K = 0 per seed, nothing else
# running on the machine, then the segmentation of its kept models with the gate at K = 0 and the ensemble stage
# without x1.5 at K = 1 and without the gate at K = 0 (reported) by docs/results/seeds81-83/analyse.sh.
# Its verdicts, times and segmentation are reported whatever they show. No candidate is judged on these seeds.
#   bash docs/results/seeds84-86/run.sh [OUT]     (default OUT runs/s42/targets84)
#   bash docs/results/seeds81-83/analyse.sh OUT 84 docs/results/seeds84-86 runs/s42/seg84
# The pipeline keeps a finished member's results: rerun the same command after a stop.
set -euo pipefail
export PRECISION=fp32
SEEDS=${SEEDS:-84 85 86} exec bash "$(dirname "$0")/../seeds49-51/run.sh" "${1:-runs/s42/targets84}"
