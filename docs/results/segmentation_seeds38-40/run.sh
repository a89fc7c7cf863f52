#!/usr/bin/env bash
# Segmentation of the session-26 targets configuration (bf16 sim-only trainings) on seeds 38-40, the runs of
# docs/results/segmentation_seeds32-37/run.sh on the kept models in runs/s26/targets; one JSON per K, seed and person
# in runs/s26/seg. Summary: python docs/results/segmentation_seeds32-37/aggregate.py runs/s26/seg "seeds 38-40=38,39,40"
set -euo pipefail
SEEDS="38 39 40" SEG_OUT=runs/s26/seg exec bash "$(dirname "$0")/../segmentation_seeds32-37/run.sh"
