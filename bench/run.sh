#!/usr/bin/env bash
# Builds rampart, installs the peer scanners in a throwaway venv outside the
# repository, makes the inputs and runs the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PEERS_VENV:-/tmp/rampart-peers}
if [ ! -x "$VENV/bin/modelaudit" ]; then
  python3 -m venv "$VENV"
  # onnx, h5py and tensorflow give modelaudit and modelscan their full
  # coverage of ONNX, Keras and TensorFlow files.
  "$VENV/bin/pip" install -q picklescan modelscan modelaudit fickling onnx h5py tensorflow-cpu
fi
"$VENV/bin/pip" list 2>/dev/null | grep -iE '^(picklescan|modelscan|modelaudit|fickling) '
cargo build --release -q
python3 bench/make_inputs.py
PEERS_VENV=$VENV python3 bench/run.py | tee bench/out/results.md
PEERS_VENV=$VENV python3 bench/detection.py | tee bench/out/detection.md
