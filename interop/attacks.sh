#!/usr/bin/env bash
# rampart eval's attacks beside IBM ART's (interop/attacks_interop.py says
# what is compared); `--bench` adds the timings BENCHMARKS.md records.
# Needs network access to PyPI for the venv, once.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/eval-venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r tools/requirements-eval.txt adversarial-robustness-toolbox
fi
"$VENV/bin/pip" show -q adversarial-robustness-toolbox > /dev/null 2>&1 ||
    "$VENV/bin/pip" install -q adversarial-robustness-toolbox
cargo build --release -q -p rampart
RAMPART=target/release/rampart "$VENV/bin/python" -W ignore interop/attacks_interop.py "$@"
