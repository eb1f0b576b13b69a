#!/usr/bin/env bash
# Two rampart binaries on the same inputs in one run, timed by hyperfine:
# for a change that must not make anything slower (a refactor).
#
#   PY=/tmp/pii/bin/python bash bench/before_after.sh BEFORE_BIN AFTER_BIN
#
# PY needs faker and phonenumbers (tools/gen_pii_corpus.py). Inputs, made
# once under $WORK:
#   - scan: the bundled examples/ (154 model files of every format);
#   - pii: 20,000 labelled records in 14 locales (tools/gen_pii_corpus.py,
#     seed 2026), as JSON Lines;
#   - drift: two CSVs of 200,000 rows x 10 columns (pure Python, seeded),
#     the current one shifted in two columns; and `data profile` of the
#     reference.
# Exit codes are ignored (-i): the scan and drift gates fail, as they should.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=$1
AFTER=$2
PY=${PY:-/tmp/pii/bin/python}
WORK=${WORK:-/tmp/rampart-before-after}
RUNS=${RUNS:-10}
mkdir -p "$WORK"
cd "$WORK"
[ -f pii.jsonl ] || "$PY" "$ROOT/tools/gen_pii_corpus.py" pii.jsonl 20000 2026 >/dev/null
[ -f ref.csv ] || python3 - <<'EOF'
import random
def write(path, seed, shift):
    r = random.Random(seed)
    cats = ["red", "green", "blue", "amber", "violet"]
    with open(path, "w") as f:
        f.write(",".join([f"n{i}" for i in range(7)] + ["c0", "c1", "c2"]) + "\n")
        for _ in range(200_000):
            nums = [r.gauss(i + (shift if i < 2 else 0), 1 + i / 10) for i in range(7)]
            row = [f"{x:.5f}" for x in nums] + [r.choice(cats) for _ in range(3)]
            f.write(",".join(row) + "\n")
write("ref.csv", 1, 0.0)
write("cur.csv", 2, 0.3)
EOF
run() {
  local name=$1
  shift
  hyperfine -N -i --warmup 1 --runs "$RUNS" --export-markdown "$name.md" \
    -n before "$BEFORE $*" -n after "$AFTER $*" >/dev/null
  echo "### $name: rampart $*"
  cat "$name.md"
  echo
}
run scan scan "$ROOT/examples" --format json --quiet
run pii data pii scan pii.jsonl --json --max-matches 0
rm -f ref.profile.json
run profile data profile ref.csv -o ref.profile.json
run drift data drift ref.csv cur.csv --json
run drift-profile data drift ref.profile.json cur.csv --json
# Instructions, which the machine's noise does not move: each command once
# under callgrind (INSTR=1), before and after.
if [ "${INSTR:-0}" = 1 ]; then
  echo "### instructions (valgrind --tool=callgrind, millions)"
  echo "| command | before | after | after/before |"
  echo "|---|---:|---:|---:|"
  count() {
    # stdin closed: the loop's own input is not the command's. Gates
    # that fail exit 1, which is not an error here.
    { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" </dev/null 2>&1 >/dev/null || true; } |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  while IFS='|' read -r name args; do
    b=$(count "$BEFORE" $args)
    a=$(count "$AFTER" $args)
    awk -v n="$name" -v b="$b" -v a="$a" 'BEGIN { printf "| %s | %.1f | %.1f | %.4f |\n", n, b / 1e6, a / 1e6, a / b }'
  done <<EOT
scan|scan $ROOT/examples --format json --quiet
pii|data pii scan pii.jsonl --json --max-matches 0
profile|data profile ref.csv -o ref.profile.json
drift|data drift ref.csv cur.csv --json
drift-profile|data drift ref.profile.json cur.csv --json
EOT
fi
