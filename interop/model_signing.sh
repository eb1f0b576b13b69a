#!/usr/bin/env bash
# Interop with the OpenSSF model-signing package (key method), both
# directions and tamper cases: see interop/ms_interop.py.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MS_VENV:-/tmp/rampart-model-signing}
if [ ! -x "$VENV/bin/model_signing" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q model-signing pyopenssl
fi
cargo build --release -q
RAMPART=$PWD/target/release/rampart "$VENV/bin/python" interop/ms_interop.py
