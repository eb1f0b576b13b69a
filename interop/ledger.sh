#!/usr/bin/env bash
# Interop of attestations (DSSE, in-toto Statement v1) and checkpoints
# (C2SP) with independent implementations: see interop/ledger_interop.py.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LEDGER_INTEROP_VENV:-/tmp/rampart-ledger-interop}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import securesystemslib, in_toto_attestation" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "securesystemslib[crypto]" in-toto in-toto-attestation cryptography
fi
cargo build --release -q
RAMPART=$PWD/target/release/rampart "$VENV/bin/python" interop/ledger_interop.py
