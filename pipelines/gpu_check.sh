#!/usr/bin/env bash
# One-call GPU check, sized for one device call (about 9 minutes; DEADLINE_S) on a GPU machine with its
# own CUDA torch, Python 3.12, no network and no pybullet:
#   1. install this checkout --no-deps into WORK/site (keeps the torch that is there): the training-only install,
#   2. in the background, pinned to BENCH_CORES cores: the targets' benchmark, `pipelines/sim2real_targets.sh
#      --seed SEED --shots 1` with `--device cuda` and bf16 sim-only trainings (card and seconds per stage), then
#      --shots 0 on the same seed (reuses the sim-only models) if at least K0_MIN_S seconds are left,
#   3. beside it on the other cores: the device/precision/DDP/no-pybullet tests, `simgen train --device cuda` and
#      `cuda:0` (1 epoch), bench_train (r3d_18, rgb, 16x112x112, batch 32, bf16: data path / model step), then
#      the train and sim2real tests on this Python without pybullet until the deadline,
#   4. ACCURACY=1 adds the six backbones' accuracy (BUDGET_EPOCHS epochs each) when time is left.
# Every stage stops at the deadline; what finished is kept. Work files go to WORK; OUT gets three files:
# summary.json, log.txt and gpu_check.tgz (logs and result JSONs, no models).
#   bash pipelines/gpu_check.sh [--help]
# Data and wheels: made where pybullet and a registry are by pipelines/gpu_prepare.sh, which prints the command
# to run there (DEFAULT_SYN, ROBUST_SYN: the two recipes' synthetic folders; REAL: a copy of weizmann4_dev).
set -uo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,16p' "$0"
  echo "Environment: OUT (default gpu_check_out), WORK (default /tmp/gpu_check), DEFAULT_SYN (runs/acc/train),"
  echo "  ROBUST_SYN (runs/w4mixed/train), REAL (../shared/data/weizmann4_dev), SEED (46), DEADLINE_S (530),"
  echo "  BENCH_CORES (12), K0_MIN_S (150), PY (python3), ACCURACY=1, BUDGET_EPOCHS (30), SKIP_SIM2REAL=1"
  exit 0
fi
cd "$(dirname "$0")/.."
START=$(date +%s)
OUT=${OUT:-gpu_check_out}
WORK=${WORK:-/tmp/gpu_check}
DEFAULT_SYN=${DEFAULT_SYN:-runs/acc/train}
ROBUST_SYN=${ROBUST_SYN:-runs/w4mixed/train}
REAL=${REAL:-../shared/data/weizmann4_dev}
SEED=${SEED:-46}
END=$(( START + ${DEADLINE_S:-530} ))
K0_MIN_S=${K0_MIN_S:-150}
BUDGET_EPOCHS=${BUDGET_EPOCHS:-30}
PY=${PY:-python3}
mkdir -p "$OUT" "$WORK"
log() { echo "[gpu_check +$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/log.txt"; }
left() { echo $(( END - $(date +%s) )); }
until_deadline() {  # until_deadline NAME COMMAND...: run it with what is left of the time; skip under 10 s
  local name=$1 t; shift
  t=$(left)
  if (( t < 10 )); then
    log "skip $name (deadline)"; echo "{\"rc\": null, \"skipped\": \"deadline\"}" >"$WORK/$name.json"; return
  fi
  local s=$(date +%s)
  timeout "$t" "$@" >"$WORK/$name.txt" 2>&1
  local rc=$?
  echo "{\"rc\": $rc, \"seconds\": $(( $(date +%s) - s ))}" >"$WORK/$name.json"
  log "$name: rc $rc in $(( $(date +%s) - s )) s$( ((rc == 124)) && echo ' (stopped at the deadline)')"
}

CORES=$(nproc)
BENCH_CORES=${BENCH_CORES:-12}
(( BENCH_CORES < CORES )) || BENCH_CORES=$(( CORES > 1 ? CORES - 1 : 1 ))
PIN_BENCH=() PIN_REST=()
if command -v taskset >/dev/null && (( CORES > 1 )); then
  PIN_BENCH=(taskset -c "0-$(( BENCH_CORES - 1 ))") PIN_REST=(taskset -c "$BENCH_CORES-$(( CORES - 1 ))")
fi
REST_THREADS=$(( CORES - BENCH_CORES ))

log "install --no-deps into $WORK/site"
$PY -m pip install --no-deps --no-build-isolation --quiet --target "$WORK/site" . >"$WORK/install.txt" 2>&1 \
  || { log "install failed"; tail -20 "$WORK/install.txt" | tee -a "$OUT/log.txt"; exit 1; }
export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
printf '#!/bin/sh\nexec %s -m simgen.pipelines.cli "$@"\n' "$PY" >"$WORK/simgen" && chmod +x "$WORK/simgen"
$PY - >"$WORK/env.json" <<'EOF'
import json, os, sys, torch
cuda = torch.cuda.is_available()
print(json.dumps(dict(python=sys.version.split()[0], torch=torch.__version__, cuda=cuda, cores=os.cpu_count(),
                      gpu=torch.cuda.get_device_name(0) if cuda else None,
                      gpu_memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
                      if cuda else None,
                      bf16=cuda and torch.cuda.is_bf16_supported())))
EOF
nvidia-smi -L >"$WORK/nvidia_smi.txt" 2>&1
log "env $(cat "$WORK/env.json")"

BENCH_PID=
if [[ -z "${SKIP_SIM2REAL:-}" ]]; then
  log "targets benchmark, seed $SEED, K = 1 then K = 0, --device cuda, bf16 sim-only, on $BENCH_CORES cores"
  (
    export SIMGEN="$WORK/simgen" PY THREADS=$BENCH_CORES PRECISION=bf16 EXTRA="--device cuda" DEFAULT_SYN ROBUST_SYN
    until_deadline targets_k1 "${PIN_BENCH[@]}" bash pipelines/sim2real_targets.sh --seed "$SEED" --shots 1 \
      --real "$REAL" --out "$WORK/targets"
    if (( $(left) >= K0_MIN_S )) && [[ -f "$WORK/targets/recipes_k1_seed$SEED.json" ]]; then
      until_deadline targets_k0 "${PIN_BENCH[@]}" bash pipelines/sim2real_targets.sh --seed "$SEED" --shots 0 \
        --real "$REAL" --out "$WORK/targets"
    else
      log "K = 0 not started ($(left) s left, K = 1 results: $(ls "$WORK/targets" 2>/dev/null | tr '\n' ' '))"
    fi
  ) &
  BENCH_PID=$!
fi

export OMP_NUM_THREADS=$REST_THREADS
until_deadline tests "${PIN_REST[@]}" $PY -m pytest -q -p no:cacheprovider tests/train/test_device.py \
  tests/train/test_precision.py tests/train/test_backbone_defaults.py tests/train/test_ddp.py \
  tests/train/test_no_pybullet.py
{ tail -3 "$WORK/tests.txt"; echo; } | tee -a "$OUT/log.txt"
# the real GPU paths the CPU tests fake: --device cuda (once a ValueError), cuda:0, bf16 by default
for dev in cuda cuda:0; do
  until_deadline "smoke_${dev/:/_}" "${PIN_REST[@]}" "$WORK/simgen" train --synthetic "$DEFAULT_SYN" \
    --out "$WORK/smoke_${dev/:/_}" --device "$dev" --epochs 1 --workers 2 --no-progress
done
until_deadline bench_r3d_18 "${PIN_REST[@]}" $PY -m simgen.pipelines.bench_train --data "$DEFAULT_SYN" --model r3d_18 \
  --input rgb --size 112 --num-frames 16 --batch-size 32 --workers "$REST_THREADS" --device cuda --precision bf16 \
  --steps 10 --repeats 2 --cache-dir "$WORK/cache" --out "$WORK/bench_r3d_18_result.json"
tail -8 "$WORK/bench_r3d_18.txt" | tee -a "$OUT/log.txt"

if [[ -n "${ACCURACY:-}" ]]; then
  for model in tiny3d tsm_r18 r3d_18 mc3_18 r2plus1d_18 s3d; do
    input=diff; size=64
    [[ $model != tiny3d ]] && { input=rgb; size=112; }
    until_deadline "acc_$model" "${PIN_REST[@]}" "$WORK/simgen" train --synthetic "$DEFAULT_SYN" \
      --out "$WORK/acc_$model" --model "$model" --input "$input" --size "$size" --device cuda \
      --epochs "$BUDGET_EPOCHS" --workers 2 --seed 0 --no-progress
  done
fi

# the rest of the time: the train and sim2real tests on this Python, without pybullet
XDIST=()
$PY -c "import xdist" 2>/dev/null && XDIST=(-n "$REST_THREADS")
until_deadline tests_train_sim2real "${PIN_REST[@]}" $PY -m pytest -q -p no:cacheprovider ${XDIST[@]+"${XDIST[@]}"} \
  -m "not slow" tests/train tests/sim2real
{ tail -3 "$WORK/tests_train_sim2real.txt"; echo; } | tee -a "$OUT/log.txt"

[[ -z "$BENCH_PID" ]] || { log "waiting for the benchmark ($(left) s left)"; wait "$BENCH_PID"; }
cp "$WORK"/targets_k*.txt "$WORK/targets/" 2>/dev/null
$PY - "$WORK" "$OUT" "$BENCH_CORES" <<'EOF'
import json, pathlib, sys
work, out, bench_cores = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
def load(p):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None
summary = {p.stem: load(p) for p in sorted(work.glob("*.json"))}
summary["benchmark_cores"] = bench_cores
targets = work / "targets"
for p in sorted(targets.glob("times_*.json")):
    summary[p.stem] = load(p)
for p in sorted(targets.glob("*_k*_seed*.json")):
    if p.name.startswith("times_"):
        continue
    d = load(p) or {}
    summary[p.stem] = {m: {k: v.get(k) for k in ("accuracy_mean", "perturbations", "seconds")}
                       for m, v in d.get("methods", {}).items()}
(out / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps(summary)[:4000])
EOF
tar czf "$OUT/gpu_check.tgz" -C "$WORK" --exclude='*.pt' --exclude=site --exclude=cache --exclude='*models*' . \
  2>/dev/null
log "done"
