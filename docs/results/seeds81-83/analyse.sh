#!/usr/bin/env bash
# Session 41: the analysis of a set of three seeds run with pipelines/sim2real_targets.sh (as for 78-80 and 81-83):
# the files committed beside this script (ensemble results, members without their per-clip runs, times), the
# ensemble stage again without x1.5 at K = 1 and without the clutter gate at K = 0 (reported), the verdicts, the
# segmentation of the kept models (gate at K = 0) and its summary; then rows.py prints the log's table.
#   bash docs/results/seeds81-83/analyse.sh [TARGETS_DIR] [FIRST_SEED] [OUT_DIR] [SEG_OUT]
#   python docs/results/seeds81-83/rows.py OUT_DIR
# Defaults: runs/s40/targets81, 81, docs/results/seeds81-83, runs/s41/seg81.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=${1:-runs/s40/targets81} F=${2:-81}
S=($F $((F + 1)) $((F + 2)))
D=${3:-docs/results/seeds$F-$((F + 2))} SEG=${4:-runs/s41/seg$F} PY=${PY:-.venv/bin/python}
mkdir -p "$D"
for s in "${S[@]}"; do for k in 1 0; do
  cp "$T/recipes_k${k}_seed$s.json" "$T/times_k${k}_seed$s.json" "$D/"
  for m in default robust; do
    $PY docs/results/seeds44-46/slim_member.py "$T/${m}_k${k}_seed$s.json" "$D/${m}_k${k}_seed$s.json"
  done
done; done
fuse_again() {  # fuse_again K TAG [OPTIONS...]: the pipeline's ensemble stage with OPTIONS instead of the adopted ones
  local k=$1 tag=$2 s; shift 2
  for s in "${S[@]}"; do
    [[ -f $D/recipes_${tag}_k${k}_seed$s.json ]] || $PY -m simgen.adapt.benchmark.ensemble \
      --member "best=$T/default_k${k}_seed$s.json" --member "best=$T/robust_k${k}_seed$s.json" \
      --member-models "$T/default_models_k$k" --member-models "$T/robust_models_k$k" --clip-stability "$@" \
      --name recipes --out "$D/recipes_${tag}_k${k}_seed$s.json"
  done
}
fuse_again 1 nox15
fuse_again 0 nogate
verdict() {  # verdict TAG METHOD CLEAN_MIN: the targets' verdict on D/TAG_seedS.json of the three seeds
  local files=() s
  for s in "${S[@]}"; do files+=("$D/$1_seed$s.json"); done
  $PY -m simgen.adapt.benchmark.targets "${files[@]}" --method "$2" --clean-min "$3" --json "$D/verdict_$1.json" \
    > /dev/null
}
verdict recipes_k1 recipes 99; verdict recipes_k0 recipes 95
verdict recipes_nox15_k1 recipes 99; verdict recipes_nogate_k0 recipes 95
for m in default robust; do verdict ${m}_k1 best 99; verdict ${m}_k0 best 95; done
SEEDS="${S[*]}" TARGETS_DIR=$T CLUTTER_GATE_K0=0.25 SEG_OUT=$SEG bash docs/results/segmentation_seeds32-37/run.sh
$PY docs/results/segmentation_seeds32-37/aggregate.py "$SEG" "seeds $F-$((F + 2))=$(IFS=,; echo "${S[*]}")" \
  > "$D/segmentation_summary.json"
echo "analysed seeds ${S[*]} into $D"
