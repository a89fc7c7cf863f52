#!/usr/bin/env bash
# Create .venv and install the project. torch goes first, pinned, so that pip
# takes the CPU build instead of pulling a multi-GB CUDA build as a dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0 torchvision==0.28.0
.venv/bin/python -m pip install -q -e ".[sim,dev]"
