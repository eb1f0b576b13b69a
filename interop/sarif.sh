#!/usr/bin/env bash
# SARIF 2.1.0 interop: rampart's SARIF output is checked by two reference
# consumers in a throwaway venv outside the repository:
#   1. the `jsonschema` reference validator (Draft 7) against the official
#      OASIS schema (crates/rampart-core/tests/fixtures/sarif-schema-2.1.0.json);
#   2. Microsoft's `sarif-tools` (`sarif summary`, `sarif csv`), which must read
#      the file and count the same results per level.
# The reverse direction does not apply: rampart writes SARIF but never reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${INTEROP_VENV:-/tmp/rampart-interop}
if [ ! -x "$VENV/bin/sarif" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q jsonschema sarif-tools
fi
cargo build --release -q
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
set +e
./target/release/rampart scan examples --quiet --format sarif --output "$out/scan.sarif"
code=$?
set -e
[ "$code" = 1 ] || { echo "expected exit 1 (findings), got $code"; exit 1; }

"$VENV/bin/python" - "$out/scan.sarif" <<'PY'
import json, sys
import jsonschema
schema = json.load(open("crates/rampart-core/tests/fixtures/sarif-schema-2.1.0.json"))
log = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(log)
results = log["runs"][0]["results"]
print(f"jsonschema: valid SARIF 2.1.0, {len(results)} results")
PY

"$VENV/bin/sarif" summary "$out/scan.sarif" -o "$out/summary.txt"
cat "$out/summary.txt"
"$VENV/bin/sarif" csv "$out/scan.sarif" -o "$out/results.csv"
"$VENV/bin/python" - "$out/scan.sarif" "$out/results.csv" <<'PY'
import csv, json, sys
log = json.load(open(sys.argv[1]))
ours = len(log["runs"][0]["results"])
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == ours, f"sarif-tools read {len(rows)} results, rampart wrote {ours}"
levels = {r["Severity"] for r in rows}
print(f"sarif-tools: read all {len(rows)} results (levels {sorted(levels)})")
PY
echo "SARIF interop: OK"
