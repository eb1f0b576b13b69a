#!/usr/bin/env bash
# schemathesis (PyPI) against the gateway's own OpenAPI document: every
# endpoint, with generated valid and invalid inputs, with a key holding
# every role and with no key. Passes when no request gets a server error
# (5xx) and every response is one the document allows.
#
#   python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install schemathesis
#   cargo build --release
#   ST=/tmp/st-venv/bin/schemathesis bash interop/gateway_schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/rampart}
ST=${ST:-schemathesis}
N=${N:-100}
W=$(mktemp -d /tmp/gwst.XXXX)
PORT=18280
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
cp crates/rampart-gateway/tests/fixtures/iris_logreg.onnx "$W/iris.onnx"
cd "$W"
"$BIN" init > /dev/null
cat >> rampart.toml <<TOML
[registry.alias.production]
require = ["scan"]

[serve.limits]
rate = 100000.0
burst = 100000

[serve.models.iris]
from = "iris@production"

[serve.roles.all]
actions = ["infer", "metadata", "admin", "registry-read", "promote", "rollback", "deprecate"]
models = ["*"]
TOML
"$BIN" registry register iris iris.onnx > /dev/null
"$BIN" scan iris.onnx > /dev/null
"$BIN" ledger checkpoint > /dev/null
"$BIN" registry promote iris@1 --to production > /dev/null
KEY=$("$BIN" serve keys create st --role all --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$BIN" serve --listen 127.0.0.1:$PORT 2> "$W/gateway.log" &
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/health/live" && break; sleep 0.2; done
status=0
for auth in "Authorization: Bearer $KEY" "X-None: none"; do
  echo "== schemathesis with header: ${auth%% *}"
  "$ST" run "http://127.0.0.1:$PORT/openapi.json" -H "$auth" \
    -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    -n "$N" --request-timeout 10 || status=1
done
grep -c '"event":"request"' "$W/gateway.log" | sed 's/^/requests logged: /'
exit $status
