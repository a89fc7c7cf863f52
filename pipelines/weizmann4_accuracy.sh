#!/usr/bin/env bash
# Synthetic-to-synthetic and zero-shot synthetic-to-real accuracy of tiny3d on weizmann4:
# 200 training clips (seed 0), 80 test clips (seed 1), then the real weizmann4_dev clips.
#   bash pipelines/weizmann4_accuracy.sh [OUT]      (default OUT: runs/acc)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/acc}
SIMGEN=${SIMGEN:-.venv/bin/simgen}
REAL=../shared/data/weizmann4_dev
rm -rf "$OUT/train" "$OUT/test" "$OUT/model"
mkdir -p "$OUT"
start=$(date +%s)
$SIMGEN generate --preset weizmann4 --clips 200 --seed 0 --out "$OUT/train" --workers 2 --quiet
$SIMGEN generate --preset weizmann4 --clips 80 --seed 1 --out "$OUT/test" --workers 2 --quiet
generated=$(date +%s)
echo "generate_seconds $((generated - start))"
$SIMGEN train --synthetic "$OUT/train" --out "$OUT/model" --model tiny3d --device cpu --seed 0 --no-progress
echo "train_seconds $(($(date +%s) - generated))"
$SIMGEN evaluate --checkpoint "$OUT/model/model.pt" --data "$OUT/test" --out "$OUT/test_metrics.json"
if [ -f "$REAL/labels.csv" ]; then
  $SIMGEN evaluate --checkpoint "$OUT/model/model.pt" --data "$REAL" --out "$OUT/real_metrics.json"
fi
