#!/usr/bin/env bash
# The registry's speed, in one run (issue 20's targets):
#   - registering a 1,000-file folder (256 KiB each) against `rampart sign
#     --no-cache` of the same folder: both are hashing (hyperfine);
#   - promote / rollback latency, an in-memory alias lookup, listing
#     10,000 versions, on SQLite and on the PostgreSQL server at
#     127.0.0.1:5432 (examples/registry_bench.rs, in process);
#   - a version registered and an alias moved to it, per iteration,
#     against MLflow's Python client on a local SQLite backend.
#
#   PY=/tmp/mlflow-venv/bin/python bash bench/registry.sh
#
# PY needs mlflow. Work files go under $WORK (on disk, not tmpfs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-/tmp/mlflow-venv/bin/python}
WORK=${WORK:-/work/tmp-bench/registry}
RUNS=${RUNS:-10}
(cd "$ROOT" && cargo build --release -q -p rampart && cargo build --release -q -p rampart-registry --example registry_bench)
R="$ROOT/target/release/rampart"
B="$ROOT/target/release/examples/registry_bench"
rm -rf "$WORK" && mkdir -p "$WORK/project/model" && cd "$WORK/project"
"$R" init >/dev/null
python3 - <<'PY'
import os
for i in range(1000):
    with open(f"model/part-{i:04d}.bin", "wb") as f:
        f.write(os.urandom(256 * 1024))
PY
"$R" keygen k --algorithm ed25519 >/dev/null
"$R" registry register m model >/dev/null
echo "== 1,000 files, 256 MiB: register (hashes, finds the version) vs sign --no-cache"
hyperfine -N -w 2 -r "$RUNS" --export-json "$WORK/hash.json" \
  "$R registry register m model" \
  "$R sign model --key k.key --no-cache" | grep -E "Time|±|faster|registry|sign"
echo "== in process: SQLite, then PostgreSQL"
TMPDIR="$WORK" "$B" sqlite 200 10000
psql -h 127.0.0.1 -U postgres test -qc "DROP SCHEMA IF EXISTS bench_reg CASCADE; CREATE SCHEMA bench_reg" 2>/dev/null
TMPDIR="$WORK" "$B" "postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_reg" 200 10000
psql -h 127.0.0.1 -U postgres test -qc "DROP SCHEMA IF EXISTS bench_reg CASCADE" 2>/dev/null
echo "== MLflow's client, the same register-and-alias loop"
"$PY" "$ROOT/bench/registry_mlflow.py" "$WORK/mlflow" 200 2>/dev/null
