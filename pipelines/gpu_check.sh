#!/usr/bin/env bash
# One-call GPU check for a session that has a GPU (written without one; not yet run).
# Fits ~8 min on one H200 (torch already installed, Python 3.12, no network, no pybullet):
#   1. install this checkout --no-deps into a target dir (uses the torch that is there),
#   2. the device/precision/DDP tests on the real GPU,
#   3. each of the six backbones: train on synthetic weizmann4-style clips, evaluate on other-seed
#      clips (short budget: BUDGET_EPOCHS epochs), accuracy + seconds,
#   4. bench_train: r3d_18, rgb, 16x112x112, batch 32 -> data path / model step ratio.
# Results: JSON files under $OUT (default ./gpu_check_out); a summary in $OUT/summary.json.
#   bash pipelines/gpu_check.sh [--help]
# Data: TRAIN and TEST (synthetic dataset folders) must be made beforehand, on a machine with the
# generator (`simgen generate --preset weizmann4 --clips 300 --seed 0 --size 112` / `--clips 80 --seed 1`),
# and carried along, since pybullet is not installed where the GPUs are.
set -uo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,14p' "$0"
  echo "Environment: OUT, TRAIN (default runs/acc/train), TEST (default runs/acc/test), BUDGET_EPOCHS (default 30),"
  echo "             PY (default python3), SKIP_TESTS=1, SKIP_ACCURACY=1, SKIP_BENCH=1"
  exit 0
fi
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_check_out}
TRAIN=${TRAIN:-runs/acc/train}
TEST=${TEST:-runs/acc/test}
BUDGET_EPOCHS=${BUDGET_EPOCHS:-30}
PY=${PY:-python3}
mkdir -p "$OUT"
TARGET="$OUT/site"
log() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$OUT/log.txt"; }

log "install --no-deps into $TARGET"
$PY -m pip install --no-deps --no-build-isolation --quiet --target "$TARGET" . >>"$OUT/log.txt" 2>&1 \
  || { log "install failed"; exit 1; }
export PYTHONPATH="$TARGET${PYTHONPATH:+:$PYTHONPATH}"
SIMGEN=("$PY" -m simgen.pipelines.cli)
$PY - <<'EOF' >"$OUT/env.json"
import json, sys, torch
print(json.dumps(dict(python=sys.version.split()[0], torch=torch.__version__, cuda=torch.cuda.is_available(),
                      gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                      bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported())))
EOF
cat "$OUT/env.json"

if [[ -z "${SKIP_TESTS:-}" ]]; then
  log "device/precision/DDP tests"
  $PY -m pytest -q -p no:cacheprovider tests/train/test_device.py tests/train/test_precision.py \
    tests/train/test_backbone_defaults.py tests/train/test_ddp.py >"$OUT/tests.txt" 2>&1
  echo "{\"tests_rc\": $?}" >"$OUT/tests.json"
  tail -3 "$OUT/tests.txt"
  # the real GPU paths the CPU tests fake: --device cuda (was a ValueError), cuda:0, bf16 default
  for dev in cuda cuda:0; do
    timeout 120 "${SIMGEN[@]}" train --synthetic "$TEST" --out "$OUT/smoke_$dev" --device "$dev" --epochs 1 \
      --no-progress >"$OUT/smoke_$dev.txt" 2>&1
    echo "{\"device\": \"$dev\", \"rc\": $?}" >"$OUT/smoke_${dev/:/_}.json"
  done
fi

if [[ -z "${SKIP_ACCURACY:-}" ]]; then
  for model in tiny3d tsm_r18 r3d_18 mc3_18 r2plus1d_18 s3d; do
    input=diff; size=64
    [[ $model != tiny3d ]] && { input=rgb; size=112; }
    log "accuracy $model ($input, ${size}px, $BUDGET_EPOCHS epochs, per-backbone defaults)"
    start=$(date +%s)
    timeout 150 "${SIMGEN[@]}" train --synthetic "$TRAIN" --out "$OUT/acc_$model" --model "$model" --input "$input" \
      --size "$size" --device cuda --epochs "$BUDGET_EPOCHS" --workers 8 --seed 0 --no-progress \
      >"$OUT/acc_$model.txt" 2>&1
    rc=$?
    seconds=$(( $(date +%s) - start ))
    acc=null
    if [[ $rc == 0 ]]; then
      "${SIMGEN[@]}" evaluate --checkpoint "$OUT/acc_$model/model.pt" --data "$TEST" --device cuda \
        --out "$OUT/acc_${model}_test.json" --no-progress >>"$OUT/acc_$model.txt" 2>&1
      acc=$($PY -c "import json;print(json.load(open('$OUT/acc_${model}_test.json'))['accuracy'])" 2>/dev/null || echo null)
    fi
    echo "{\"model\": \"$model\", \"input\": \"$input\", \"size\": $size, \"epochs\": $BUDGET_EPOCHS, \"rc\": $rc, \"train_seconds\": $seconds, \"test_accuracy\": $acc}" \
      | tee "$OUT/acc_$model.json"
  done
fi

if [[ -z "${SKIP_BENCH:-}" ]]; then
  log "bench_train r3d_18 rgb 16x112x112 batch 32"
  timeout 180 $PY -m simgen.pipelines.bench_train --data "$TRAIN" --model r3d_18 --input rgb --size 112 \
    --num-frames 16 --batch-size 32 --workers 8 --device cuda --steps 10 --repeats 2 \
    --out "$OUT/bench_r3d_18.json" >"$OUT/bench.txt" 2>&1
  echo "{\"bench_rc\": $?}" >"$OUT/bench_rc.json"
  tail -8 "$OUT/bench.txt"
fi

$PY - "$OUT" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
summary = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "summary.json"}
(out / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps(summary)[:3000])
EOF
log done
