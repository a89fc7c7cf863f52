#!/usr/bin/env bash
# Session 29: does `simgen evaluate --clip-stability` (copies drawn from each clip's content) give what the benchmark's
# per-clip ensemble stage gave (copies drawn from each clip's file name)? The saved K = 1 `best` models of seeds 42-43
# (docs/results/seeds41-43/run.sh, kept in OUT), each fold's test person, the fold weights the benchmark recorded,
# clean and compressed clips (CRF 32/40/48: the same copies as the benchmark's; only the stability copies differ).
#   bash docs/results/clip_stability_cli/run.sh [MODELS] [OUT]   (defaults runs/s28/targets, runs/s29/clip_cli)
set -euo pipefail
cd "$(dirname "$0")/../../.."
MODELS=${1:-runs/s28/targets}
OUT=${2:-runs/s29/clip_cli}
SIMGEN=${SIMGEN:-.venv/bin/simgen}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"
for s in ${SEEDS:-42 43}; do
  for f in s0 s1 s2 s3 s4; do
    [[ -f "$OUT/seed${s}_$f.json" ]] && continue
    w=$("$PY" -c "import json,sys; r=[r for r in json.load(open(sys.argv[1]))['runs'] if r['fold']==sys.argv[2]][0]; \
print(','.join(str(x) for x in r['member_weights']))" "docs/results/seeds41-43/recipesclip_k1_seed$s.json" "$f")
    "$SIMGEN" evaluate --checkpoint "$MODELS/default_models_k1/best-seed$s/test-$f/model.pt" \
      "$MODELS/robust_models_k1/best-seed$s/test-$f/model.pt" --member-weights "$w" --clip-stability \
      --data ../shared/data/weizmann4_dev --subjects "$f" --test-perturb compression --no-progress \
      --out "$OUT/seed${s}_$f.json" > /dev/null
  done
done
