#!/usr/bin/env bash
# Seeds both fuzz corpora with every file of examples/ (flat copies).
set -euo pipefail
cd "$(dirname "$0")"
for t in pickle_vm archive_walker; do
  mkdir -p "corpus/$t"
  find ../examples -type f ! -name expected.json | while read -r f; do
    cp "$f" "corpus/$t/$(echo "$f" | sed 's|^\.\./examples/||; s|/|_|g')"
  done
done
echo "seeded $(ls corpus/pickle_vm | wc -l) files per target"
