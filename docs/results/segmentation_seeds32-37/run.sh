#!/usr/bin/env bash
# Segmentation of the targets configuration (stability-weighted recipe ensemble, camera gate 0.008) on seeds 32-37,
# from the kept best models of sessions 23 (32-34), 24 (35) and 25 (36-37);
# one JSON per K, seed and person in runs/s25/seg. Other seeds (session 26): SEEDS="38 39 40" SEG_OUT=runs/s26/seg.
# Session 38: SHOTS="0" runs one K only; CLUTTER_GATE_K0=0.25 adds the clutter gate at K = 0 as the pipeline has it
# since session 37 (sim2real_targets.sh --shots 0); unset, every earlier run is unchanged.
set -euo pipefail
cd "$(dirname "$0")/../../.."  # the project root
export OMP_NUM_THREADS=2
SEG_OUT=${SEG_OUT:-runs/s25/seg}
mkdir -p "$SEG_OUT"
for S in ${SEEDS:-32 33 34 35 36 37}; do
  case $S in
    35) D=runs/s24/t35 ;; 36|37) D=runs/s25/targets ;; 38|39|40) D=runs/s26/targets ;; *) D=runs/s23/targets ;;
  esac
  D=${TARGETS_DIR:-$D}  # another session's targets runs (session 34: runs/s33/targets for seeds 49-51)
  for K in ${SHOTS:-1 0}; do
    GATE=()
    [[ $K == 0 && -n ${CLUTTER_GATE_K0:-} ]] && GATE=(--clutter-gate "$CLUTTER_GATE_K0")
    for F in s0 s1 s2 s3 s4; do
      out=$SEG_OUT/k${K}_seed${S}_${F}.json
      [[ -f $out ]] && continue
      W=$(.venv/bin/python -c "
import json; d=json.load(open('$D/recipes_k${K}_seed${S}.json'))
print(','.join(str(w) for w in [r for r in d['runs'] if r['fold']=='$F'][0]['member_weights']))")
      .venv/bin/simgen evaluate --checkpoint $D/default_models_k$K/best-seed$S/test-$F/model.pt \
        $D/robust_models_k$K/best-seed$S/test-$F/model.pt --member-weights $W "${GATE[@]}" \
        --data ../shared/data/weizmann4_dev --subjects $F --task segment --smoothing viterbi --min-duration 25 \
        --seed $S --out $out > ${out%.json}.log 2>&1
      echo "$S $K $F $W done"
    done
  done
done
