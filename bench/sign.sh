#!/usr/bin/env bash
# Signing speed: rampart versus model_signing (CLI and API) and openssl,
# on a generated 2 GiB folder (bench/out/sign, not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MS_VENV:-/tmp/rampart-model-signing}
if [ ! -x "$VENV/bin/model_signing" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q model-signing pyopenssl
fi
cargo build --release -q
MS_VENV=$VENV python3 bench/sign.py | tee bench/out/sign.md
