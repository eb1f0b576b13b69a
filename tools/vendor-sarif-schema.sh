#!/usr/bin/env bash
# Vendors the official OASIS SARIF 2.1.0 JSON schema as a test fixture.
# The schema is taken from the `serde-sarif` crate on crates.io, which ships
# the OASIS file verbatim (its $id names the OASIS sarif-spec repository).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cargo init --quiet --name fetch_schema
cargo add --quiet serde-sarif@0.8.0
cargo fetch --quiet
src=$(cargo metadata --format-version 1 | python3 -c 'import json,sys; m=json.load(sys.stdin); print([p["manifest_path"] for p in m["packages"] if p["name"]=="serde-sarif"][0])')
schema="$(dirname "$src")/src/schema.json"
grep -q '"\$id": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"' "$schema"
cp "$schema" "$here/crates/rampart-core/tests/fixtures/sarif-schema-2.1.0.json"
echo "wrote crates/rampart-core/tests/fixtures/sarif-schema-2.1.0.json ($(wc -c < "$schema") bytes)"
