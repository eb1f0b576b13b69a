#!/usr/bin/env bash
# rampart eval against scikit-learn, Fairlearn, AIF360 and onnxruntime
# (interop/eval_interop.py says what is compared). Needs network access
# to PyPI for the venv, once.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/eval-venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r tools/requirements-eval.txt fairlearn aif360
fi
cargo build --release -q -p rampart
RAMPART=target/release/rampart "$VENV/bin/python" interop/eval_interop.py
