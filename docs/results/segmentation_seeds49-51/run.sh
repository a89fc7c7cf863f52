#!/usr/bin/env bash
# Session 34, plan (committed before any run): segmentation of today's targets configuration on seeds 49-51, the
# runs of docs/results/segmentation_seeds32-37/run.sh (session 25's settings: each person's 4 clips joined into 2
# videos, the two members' best models of each fold fused with the fold weights the recipes JSON recorded, Viterbi,
# minimum segment 25 frames) on the kept models of session 33 (runs/s33/targets), K = 1 and K = 0. A measurement
# only: the segmentation target (F1@25 >= 0.90 and edit >= 0.90, mean over the 15 (seed, person) runs of each K)
# was last measured on seeds 38-40; its verdict on 49-51 is reported whatever it shows, and nothing is chosen.
# Summary: python docs/results/segmentation_seeds32-37/aggregate.py runs/s34/seg "seeds 49-51=49,50,51"
set -euo pipefail
SEEDS="49 50 51" TARGETS_DIR=runs/s33/targets SEG_OUT=runs/s34/seg \
  exec bash "$(dirname "$0")/../segmentation_seeds32-37/run.sh"
