#!/usr/bin/env bash
# The PII scanner alone on one core, on two kinds of text:
#   - the labelled corpus of bench/pii.py (a personal value every ~48 bytes),
#   - 20 MB of Faker English prose (few personal values).
#   PY=/tmp/presidio/bin/python bash bench/pii_speed.sh   (needs faker, phonenumbers)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-/tmp/presidio/bin/python}
DENSE=/tmp/rampart-pii-speed-dense.txt
PROSE=/tmp/rampart-pii-speed-prose.txt
if [ ! -f "$DENSE" ]; then
  "$PY" "$ROOT/tools/gen_pii_corpus.py" /tmp/rampart-pii-speed-dense.jsonl 50000 2026
  "$PY" -c "
import json, sys
with open('$DENSE', 'w', encoding='utf-8') as o:
    for l in open('/tmp/rampart-pii-speed-dense.jsonl', encoding='utf-8'):
        o.write(json.loads(l)['text'] + '\n')"
fi
if [ ! -f "$PROSE" ]; then
  "$PY" -c "
from faker import Faker
f = Faker('en_US'); f.seed_instance(3)
with open('$PROSE', 'w') as o:
    n = 0
    while n < 20_000_000:
        p = f.paragraph(nb_sentences=8) + '\n'; o.write(p); n += len(p)"
fi
(cd "$ROOT" && cargo build -q --release -p rampart-pii --example pii_speed)
# Each run: one cold pass (compiling the patterns, filling the lazy DFA
# caches), then PASSES more whose median is the steady state.
PASSES=${PASSES:-9}
for f in "$DENSE" "$PROSE"; do
  for i in 1 2 3; do
    echo "$(basename "$f"): $("$ROOT/target/release/examples/pii_speed" "$f" "$PASSES")"
  done
done
