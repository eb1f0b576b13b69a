#!/usr/bin/env bash
# Parquet interop with pyarrow (the Arrow C++ reference implementation),
# both ways: files pyarrow writes in every page shape (codecs, data page
# v1 and v2, dictionaries, tiny pages, row groups, page indexes) are read
# by `rampart data profile` with pyarrow's counts and means, and a file
# `rampart data filter` rewrites reads back equal in pyarrow. See
# interop/parquet_interop.py.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PARQUET_VENV:-/tmp/rampart-parquet}
if ! "$VENV/bin/python" -c "import pyarrow, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q pyarrow numpy
fi
cargo build --release -q
"$VENV/bin/python" interop/parquet_interop.py "$PWD/target/release/rampart"
