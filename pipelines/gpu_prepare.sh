#!/usr/bin/env bash
# Prepare what pipelines/gpu_check.sh carries to a GPU machine (Python 3.12, CUDA torch, no network, no pybullet),
# here, where pybullet and a package registry are:
#   1. .whl/: the Python 3.12 wheels that machine lacks (av, kornia, pydantic, webdataset and their needs),
#      at the versions of this checkout's .venv,
#   2. the two recipes' synthetic folders, generated when missing (DEFAULT_SYN, ROBUST_SYN),
#   3. .gpu/data.txz: both folders without their dense members, plus the real folder (python -m
#      simgen.pipelines.gpu_carry), then prints the device command and the size that travels (limit 64 MiB).
#   bash pipelines/gpu_prepare.sh [--help]
# Environment: PY (default .venv/bin/python), SIMGEN (default .venv/bin/simgen), DEFAULT_SYN (runs/acc/train),
#              ROBUST_SYN (runs/w4mixed/train), REAL (../shared/data/weizmann4_dev).
set -euo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,11p' "$0"; exit 0; fi
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SIMGEN=${SIMGEN:-.venv/bin/simgen}
DEFAULT_SYN=${DEFAULT_SYN:-runs/acc/train}
ROBUST_SYN=${ROBUST_SYN:-runs/w4mixed/train}
REAL=${REAL:-../shared/data/weizmann4_dev}
[[ -f "$REAL/labels.csv" ]] || { echo "gpu_prepare.sh: no labels.csv in the real folder $REAL (REAL)" >&2; exit 2; }

# the packages the GPU image lacks, at this venv's versions (one version of each, or the install there stops)
mapfile -t WHEELS < <($PY -m pip list --format freeze 2>/dev/null | grep -iE \
  '^(av|kornia|kornia[-_]rs|pydantic|pydantic[-_]core|annotated[-_]types|typing[-_]inspection|typing[-_]extensions|'\
'webdataset|braceexpand)==')
(( ${#WHEELS[@]} >= 8 )) || { echo "gpu_prepare.sh: av, kornia, pydantic and their needs are not all in" \
  "$PY's environment, found: ${WHEELS[*]:-none} (run scripts/setup.sh)" >&2; exit 2; }
rm -rf .whl && mkdir .whl
$PY -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${WHEELS[@]}"

[[ -d "$DEFAULT_SYN" ]] || "$SIMGEN" generate --preset weizmann4 --clips 200 --seed 0 --out "$DEFAULT_SYN" --quiet
[[ -d "$ROBUST_SYN" ]] || "$SIMGEN" generate --preset weizmann4_mixed --out "$ROBUST_SYN" --quiet
$PY -m simgen.pipelines.gpu_carry --dataset "$DEFAULT_SYN" --dataset "$ROBUST_SYN" --real "$REAL" --out .gpu/data.txz

rel() { realpath --relative-to=. "$1"; }
travel=$(( $(git ls-files -z | xargs -0 cat | wc -c) + $(cat .whl/* .gpu/data.txz | wc -c) ))
echo "travels: $(( travel / 1048576 )) MiB of the 64 MiB a device call takes (tracked files, .whl, .gpu)"
cat <<EOF
device run, carry [".whl", ".gpu"], timeout_s 600:
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit; tar xJf .gpu/data.txz && PYTHONUNBUFFERED=1 OUT=\$OUT DEFAULT_SYN=$(rel "$DEFAULT_SYN") ROBUST_SYN=$(rel "$ROBUST_SYN") REAL=$(basename "$REAL") DEADLINE_S=540 bash pipelines/gpu_check.sh
EOF
