#!/usr/bin/env bash
# The gateway against nginx as a reverse proxy, on the same upstream in
# the same run, on loopback. Writes the numbers to stdout (see
# BENCHMARKS.md, "Gateway").
#
#   apt-get install -y nginx-light wrk     # Debian's packages
#   cargo build --release
#   bash bench/gateway.sh
#
# The upstream is nginx answering a fixed chat completion (the fastest
# upstream at hand, so that the proxies are what is measured). Through
# rampart: API key auth, RBAC, GCRA rate + concurrency limits, tokens per
# minute, metrics and JSON access logs, all on. Through nginx: a map of
# the same key (401 otherwise) and limit_req keyed on it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/rampart}
DUR=${DUR:-10}
CONNS=${CONNS:-50}
W=$(mktemp -d /tmp/gwbench.XXXX)
UP=18181; RP=18180; NP=18182
cleanup() { kill $(jobs -p) 2>/dev/null || true; nginx -p "$W/ng" -c "$W/ng/up.conf" -s stop 2>/dev/null || true; nginx -p "$W/ngp" -c "$W/ngp/proxy.conf" -s stop 2>/dev/null || true; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "versions: $(nginx -v 2>&1), $(wrk --version 2>&1 | head -1 | cut -c1-40), rampart $(git rev-parse --short HEAD)"

# The upstream.
mkdir -p "$W/ng/logs"
cat > "$W/ng/up.conf" <<NG
worker_processes 1;
error_log stderr error;
pid $W/ng/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $W/ng/body; proxy_temp_path $W/ng/proxy; fastcgi_temp_path $W/ng/fcgi; uwsgi_temp_path $W/ng/uwsgi; scgi_temp_path $W/ng/scgi;
  server {
    listen 127.0.0.1:$UP;
    keepalive_requests 1000000;
    location / {
      default_type application/json;
      return 200 '{"object":"chat.completion","model":"llama","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}';
    }
  }
}
NG
nginx -p "$W/ng" -c "$W/ng/up.conf"

# The project: weights registered, scanned, promoted; a key.
P="$W/project"; mkdir -p "$P/llama"; cd "$P"
cp "$OLDPWD/crates/rampart-gateway/tests/fixtures/iris_logreg.onnx" llama/model.onnx
"$BIN" init > /dev/null
cat >> rampart.toml <<TOML
[registry.alias.production]
require = ["scan"]

[serve]
head_timeout = 60

[serve.limits]
rate = 10000000.0
burst = 10000000
concurrency = 100000
tokens_per_minute = 1000000000000

[serve.upstreams.u]
url = "http://127.0.0.1:$UP"

[serve.models.chat]
from = "chat@production"
upstream = "u"

[serve.roles.bench]
actions = ["infer"]
models = ["chat"]
TOML
"$BIN" registry register chat llama > /dev/null
"$BIN" scan llama > /dev/null
"$BIN" ledger checkpoint > /dev/null
"$BIN" registry promote chat@1 --to production > /dev/null
KEY=$("$BIN" serve keys create bench --role bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$BIN" serve check-config
"$BIN" serve --listen 127.0.0.1:$RP 2> "$W/rampart.log" &
RPID=$!
cd - > /dev/null

# nginx as the reverse proxy with the same checks it can do.
mkdir -p "$W/ngp/logs"
cat > "$W/ngp/proxy.conf" <<NG
worker_processes 2;
error_log stderr error;
pid $W/ngp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log $W/ngp/access.log;
  client_body_temp_path $W/ngp/body; proxy_temp_path $W/ngp/proxy; fastcgi_temp_path $W/ngp/fcgi; uwsgi_temp_path $W/ngp/uwsgi; scgi_temp_path $W/ngp/scgi;
  map_hash_bucket_size 256;
  map \$http_authorization \$principal { default ""; "Bearer $KEY" "bench"; }
  limit_req_zone \$principal zone=keys:10m rate=10000000r/s;
  upstream u { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NP;
    keepalive_requests 1000000;
    client_max_body_size 1m;
    location / {
      if (\$principal = "") { return 401; }
      limit_req zone=keys burst=10000000 nodelay;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
      proxy_pass http://u;
    }
  }
}
NG
nginx -p "$W/ngp" -c "$W/ngp/proxy.conf"

for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$RP/v2/health/live" && break; sleep 0.2; done

cat > "$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body   = '{"model":"chat","messages":[{"role":"user","content":"hello"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"model":"chat"}' "http://127.0.0.1:$RP/v1/chat/completions")
[ "$code" = 200 ] || { echo "rampart answered $code"; cat "$W/rampart.log" | tail -5; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" -d '{"model":"chat"}' "http://127.0.0.1:$NP/v1/chat/completions")
[ "$code" = 200 ] || { echo "nginx answered $code"; exit 1; }

run() { # name url
  echo "== $1"
  wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s "$W/post.lua" "$2/v1/chat/completions" | grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx"
}
run "upstream directly" "http://127.0.0.1:$UP"
run "nginx proxy (key map + limit_req)" "http://127.0.0.1:$NP"
if [ -n "${PROFILE:-}" ]; then  # PROFILE=1: perf samples of the gateway under load
  perf record -F 999 -g -p "$RPID" -o "$W/perf.data" -- sleep $((DUR - 2)) 2> /dev/null &
fi
run "rampart serve (key, RBAC, limits, metrics, access log)" "http://127.0.0.1:$RP"
if [ -n "${PROFILE:-}" ]; then
  wait %% 2>/dev/null || sleep 1
  perf report -i "$W/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | grep "%" | head -40
fi

# Added latency at a fixed rate (RATE requests/s, default 5,000), with
# oha (`cargo install oha --locked --no-default-features --features native-tls`,
# with libssl-dev; it corrects
# for coordinated omission): the proxies' percentiles less the
# upstream's own.
if command -v oha > /dev/null; then
  RATE=${RATE:-5000}
  fixed() { # name url
    oha --no-tui --output-format json -z "${DUR}s" -q "$RATE" -c 50 --latency-correction \
      -m POST -T application/json -H "Authorization: Bearer $KEY" \
      -d '{"model":"chat","messages":[{"role":"user","content":"hello"}]}' \
      "$2/v1/chat/completions" > "$W/oha-$1.json"
  }
  fixed upstream "http://127.0.0.1:$UP"
  fixed nginx "http://127.0.0.1:$NP"
  fixed rampart "http://127.0.0.1:$RP"
  python3 - "$W" "$RATE" <<'PY'
import json, sys
w, rate = sys.argv[1], sys.argv[2]
def read(name):
    d = json.load(open(f"{w}/oha-{name}.json"))
    p = d["latencyPercentiles"]
    return p["p50"] * 1e6, p["p99"] * 1e6, d["summary"]["requestsPerSec"], d["summary"]["successRate"]
up = read("upstream")
print(f"== fixed rate {rate}/s (oha): p50 / p99 in microseconds, added over the upstream")
for name in ["upstream", "nginx", "rampart"]:
    p50, p99, rps, ok = read(name)
    print(f"{name:9} p50 {p50:7.0f}  p99 {p99:7.0f}  added p50 {p50 - up[0]:6.0f}  p99 {p99 - up[1]:6.0f}  ({rps:.0f}/s, success {ok:.4f})")
PY
else
  echo "== fixed rate: oha is not installed (cargo install oha --locked --no-default-features --features native-tls)"
fi

# Memory: the gateway's RSS idle, then with 10,000 idle keep-alive
# connections (each has made one request), measured 3 s after the last
# answer (idle connections are parked after 1 to 2 s).
rss() { grep VmRSS /proc/$RPID/status | awk '{print $2" kB"}'; }
echo "== memory: rampart RSS before: $(rss)"
ulimit -n "$(ulimit -Hn)"   # 10,000 sockets here, 10,000 in the gateway
python3 - "$RP" > "$W/conns.txt" <<'PY' &
import socket, sys, time
port = int(sys.argv[1]); socks = []
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
ok = sum(1 for s in socks if s.recv(4096).startswith(b"HTTP/1.1 200"))
print(f"{ok} connections answered and open", flush=True)
time.sleep(8)
PY
for i in $(seq 120); do grep -q "open" "$W/conns.txt" 2>/dev/null && break; sleep 0.5; done
echo "== memory: $(cat "$W/conns.txt"); rampart RSS at once $(rss)"
sleep 3
echo "== memory: 3 s later: rampart RSS $(rss), $(ls /proc/$RPID/fd | wc -l) fds"
wait $! 2>/dev/null || true
kill -TERM $RPID; wait $RPID 2>/dev/null || true
echo "rampart access log lines: $(grep -c '"event":"request"' "$W/rampart.log")"
