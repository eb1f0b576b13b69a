#!/usr/bin/env bash
# Redis killed and restarted under load: two gateway replicas share one
# rate limit through a private redis-server; clients hammer both for 15 s;
# Redis is killed at 5 s and restarted at 10 s. Prints the requests
# admitted per second against the limit, so that the admitted excess can
# be compared with the documented local allowance (N replicas admit up to
# N x the limit while Redis is down). Loopback only, bounded in time.
#
#   cargo build --release && bash bench/gateway_redis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/rampart}
RATE=${RATE:-50}
W=$(mktemp -d /tmp/gwredis.XXXX)
RPORT=18371; A=18372; B=18373
cleanup() { kill $(jobs -p) 2>/dev/null || true; redis-cli -p $RPORT shutdown nosave 2>/dev/null || true; }
trap cleanup EXIT
redis() { redis-server --port $RPORT --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile "$W/redis.log" > /dev/null; }
redis
P="$W/project"; mkdir -p "$P"; cd "$P"
cp "$OLDPWD/crates/rampart-gateway/tests/fixtures/iris_logreg.onnx" iris.onnx
"$BIN" init > /dev/null
cat >> rampart.toml <<TOML
[registry.alias.production]
require = ["scan"]
[serve]
access_log = false
[serve.limits]
rate = $RATE.0
burst = 1
concurrency = 1000
[serve.models.iris]
from = "iris@production"
[serve.roles.scorer]
actions = ["infer"]
models = ["iris"]
TOML
"$BIN" registry register iris iris.onnx > /dev/null
"$BIN" scan iris.onnx > /dev/null 2>&1
"$BIN" ledger checkpoint > /dev/null
"$BIN" registry promote iris@1 --to production > /dev/null
KEY=$("$BIN" serve keys create load --role scorer --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$BIN" serve --listen 127.0.0.1:$A --redis redis://127.0.0.1:$RPORT 2> "$W/a.log" &
"$BIN" serve --listen 127.0.0.1:$B --redis redis://127.0.0.1:$RPORT 2> "$W/b.log" &
cd - > /dev/null
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$B/v2/health/live" && break; sleep 0.2; done
sleep 1
python3 - "$KEY" $A $B > "$W/counts.txt" <<'PY' &
import http.client, json, sys, threading, time
key, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
body = json.dumps({"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]})
t0 = time.time(); END = 15
ok = [[0] * END for _ in ports]; other = [0] * END
def hammer(i, port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while (t := time.time() - t0) < END:
        try:
            c.request("POST", "/v2/models/iris/infer", body, {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = c.getresponse(); r.read()
            s = int(time.time() - t0)
            if s < END:
                if r.status == 200: ok[i][s] += 1
                elif r.status != 429: other[s] += 1
        except Exception:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
threads = [threading.Thread(target=hammer, args=(i, p)) for i, p in enumerate(ports) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
for s in range(END):
    print(s, ok[0][s], ok[1][s], other[s])
PY
LOAD=$!
sleep 5; redis-cli -p $RPORT shutdown nosave > /dev/null 2>&1 || true; echo "redis killed at ~5 s"
sleep 5; redis; echo "redis restarted at ~10 s"
wait $LOAD
echo "limit: $RATE requests/s per principal, shared by 2 replicas"
echo "second  replica-A  replica-B  total  (errors other than 429)"
awk -v r="$RATE" '{t=$2+$3; printf "%6d  %9d  %9d  %5d  %s\n", $1, $2, $3, t, ($4>0?$4" errors":"")}' "$W/counts.txt"
awk -v r="$RATE" '$1>=1 && $1<5 {up+=$2+$3; n++} $1>=6 && $1<10 {down+=$2+$3; m++} $1>=11 {back+=$2+$3; k++}
  END {printf "mean admitted/s: redis up %.1f, redis down %.1f, after restart %.1f (limit %d, local allowance 2 x %d)\n", up/n, down/m, back/k, r, r}' "$W/counts.txt"
grep -h '"limiter"' "$W/a.log" "$W/b.log" | cut -c1-160 | head -6
