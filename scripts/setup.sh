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
# `simgen calibrate`'s report test opens report.html in headless Chromium (Debian's package; the test
# skips with a reason where it cannot be had). Only as root with apt-get; a failure (or a hang: time limits) does not stop the set-up.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq chromium; } >/dev/null 2>&1; } \
      || echo "setup: could not install chromium; the report's browser test will be skipped" >&2
fi
