#!/usr/bin/env bash
# Streaming on a big dataset: peak memory must not grow with the file.
#   GB=10 bash bench/pii_big.sh        (needs a release build and python3)
# Writes a CSV of GB gigabytes (rows from the labelled corpus generator,
# repeated with new ids), then scans it with `rampart data pii scan` and
# prints wall time, throughput and peak RSS (GNU time).
set -euo pipefail
GB=${GB:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/rampart-pii-big-${GB}g.csv}
PY=${PY:-/tmp/presidio/bin/python}
if [ ! -f "$OUT" ]; then
  SAMPLE=/tmp/rampart-pii-big-sample.jsonl
  "$PY" "$ROOT/tools/gen_pii_corpus.py" "$SAMPLE" 20000 11
  python3 - "$SAMPLE" "$OUT" "$GB" <<'PY'
import csv, io, json, sys
sample, out, gb = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [json.loads(l)["text"] for l in open(sample, encoding="utf-8")]
buf = io.StringIO()
w = csv.writer(buf)
for i, t in enumerate(rows):
    w.writerow([i, t, len(t)])
block = buf.getvalue()
target = int(gb * (1 << 30))
with open(out, "w", encoding="utf-8") as f:
    f.write("id,text,length\n")
    n = 0
    while n < target:
        f.write(block)
        n += len(block.encode())
PY
fi
ls -l "$OUT"
/usr/bin/time -v "$ROOT/target/release/rampart" data pii scan "$OUT" --json --max-matches 100 >/tmp/rampart-pii-big.json 2>/tmp/rampart-pii-big.time || true
grep -E "Elapsed|Maximum resident|User time|System time" /tmp/rampart-pii-big.time
python3 -c "
import json; d=json.load(open('/tmp/rampart-pii-big.json')); f=d['files'][0]
print('records', f['records'], 'skipped', f['skipped'], 'matches', sum(d['counts'].values()))"
