#!/usr/bin/env bash
# Session 42, plan for a candidate (the commit that added this file, made while seed 85's K = 1 run was under way,
# before any result of seeds 85 and 86 existed): the sim-only models of both members taken at their last epoch
# instead of the epoch of best accuracy on the 20 synthetic validation clips ("select best", every 5 epochs).
# Why: on seed 84 (seen: it is why this exists) the robust member's 240-epoch training kept epoch 35, where one
# lucky evaluation reached 0.7 (14 of 20 clips) and no later one did (0.5-0.65, epoch 240 0.6); that model scored
# 50% on the clean real clips, and its member's `best` 60%. With a cosine schedule that ends at a learning rate of
# 0, the last epoch is the converged model; a 20-clip accuracy moves by 5 points a clip.
# How: OUT_LAST gets each member's sim-only-seedS folder of OUT (the same training run, so the pair is paired: same
# clips, seeds, shots and folds) with model.pt replaced by last.pt's weights; then pipelines/sim2real_targets.sh at
# K = 1 and K = 0 into OUT_LAST, which reuses those models (its --reuse-sim-only check passes: same settings) and
# runs everything after the sim-only training as the pipeline does.
# Rule (written before seeds 85-86 were seen): judged on seeds 85 and 86 only, against the pipeline's runs of the
# same seeds in OUT. "Promising" if at K = 1 and at K = 0 the candidate's clean mean is not lower, it holds at least
# as many of the 14 levels within 5 points and its level mean is higher. Two seeds: a pass is promising, to be
# confirmed on three new seeds (with a `--sim-select last` option), not adopted. Seed 84 is reported, not judged.
#   bash docs/results/seeds84-86/last_epoch.sh OUT OUT_LAST [SEEDS]   (default SEEDS "84 85 86")
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=$1 OUT_LAST=$2 PY=${PY:-.venv/bin/python}
export PRECISION=${PRECISION:-fp32}  # as the plan of seeds 84-86 trained them (reused: only the check reads it)
for s in ${3:-84 85 86}; do
  for k in 1 0; do
    for m in default robust; do
      src=$OUT/${m}_models_k$k/sim-only-seed$s dst=$OUT_LAST/${m}_models_k$k/sim-only-seed$s
      [[ -e $dst ]] && continue
      mkdir -p "$dst"
      cp "$src/config.yaml" "$dst/"  # not metrics.json: it names the best epoch, which this model is not
      $PY - "$src/last.pt" "$dst/model.pt" <<'PY'
import sys, torch
last = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
torch.save(dict(meta=last["meta"], model=last["model"]), sys.argv[2])
print(f"{sys.argv[2]}: epoch {last['epoch'] + 1} weights")
PY
    done
    bash pipelines/sim2real_targets.sh --seed "$s" --shots "$k" --out "$OUT_LAST"
  done
done
