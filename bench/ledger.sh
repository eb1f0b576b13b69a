#!/usr/bin/env bash
# Ledger speed at 10^6 entries (appends, proofs, verification): see
# crates/rampart-ledger/examples/ledger_bench.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p rampart-ledger --example ledger_bench -- "${1:-1000000}" | tee bench/out/ledger.md
