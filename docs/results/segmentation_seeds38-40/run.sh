#!/usr/bin/env bash
# Segmentation of the session-26 targets configuration (bf16 sim-only trainings) on seeds 38-40, as
# docs/results/segmentation_seeds32-37/run.sh does it for 32-37; one JSON per K, seed and person in runs/s26/seg.
# Summary: python docs/results/segmentation_seeds32-37/aggregate.py runs/s26/seg "seeds 38-40=38,39,40"
set -euo pipefail
cd "$(dirname "$0")/../../.."  # the project root
export OMP_NUM_THREADS=2
D=runs/s26/targets
mkdir -p runs/s26/seg
for S in 38 39 40; do
  for K in 1 0; do
    for F in s0 s1 s2 s3 s4; do
      out=runs/s26/seg/k${K}_seed${S}_${F}.json
      [[ -f $out ]] && continue
      W=$(.venv/bin/python -c "
import json; d=json.load(open('$D/recipes_k${K}_seed${S}.json'))
print(','.join(str(w) for w in [r for r in d['runs'] if r['fold']=='$F'][0]['member_weights']))")
      .venv/bin/simgen evaluate --checkpoint $D/default_models_k$K/best-seed$S/test-$F/model.pt \
        $D/robust_models_k$K/best-seed$S/test-$F/model.pt --member-weights $W \
        --data ../shared/data/weizmann4_dev --subjects $F --task segment --smoothing viterbi --min-duration 25 \
        --seed $S --out $out > ${out%.json}.log 2>&1
      echo "$S $K $F $W done"
    done
  done
done
