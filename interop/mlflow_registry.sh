#!/usr/bin/env bash
# `rampart registry import-mlflow` against a registry the real MLflow
# package made (its Python client, a SQLite tracking database, models
# logged with mlflow.sklearn as users log them; also its file store), checked with MLflow's own
# client: every version it lists is imported with its storage location,
# the same artifacts twice are one Rampart version, every alias maps to
# the version MLflow resolves it to (and is not promoted), and a name
# Rampart cannot carry is listed as not imported. Then the reverse of what
# a user does next: the imported version's bytes, once changed, are
# refused by `registry resolve`.
#
#   PY=/tmp/mlflow-venv/bin/python bash interop/mlflow_registry.sh
#
# PY needs mlflow and scikit-learn (pip install mlflow).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
R="$ROOT/target/release/rampart"
[ -x "$R" ] || (cd "$ROOT" && cargo build --release -q)
PY=${PY:-/tmp/mlflow-venv/bin/python}
# Both of MLflow's stores: its SQLite database, and its file store (in
# maintenance in MLflow 3, still written when allowed).
export MLFLOW_ALLOW_FILE_STORE=true
for STORE in sqlite files; do
  export STORE
  echo "== MLflow $STORE store"
  T=$(mktemp -d)
  "$PY" "$ROOT/interop/mlflow_interop.py" make "$T/mlflow" >/dev/null 2>&1
  (
    cd "$T" && "$R" init >/dev/null
    set +e
    "$R" registry import-mlflow --tracking-uri "$("$PY" "$ROOT/interop/mlflow_interop.py" uri "$T/mlflow")" --json > import.json
    code=$?
    set -e
    "$PY" "$ROOT/interop/mlflow_interop.py" check "$T/mlflow" import.json "$code" "$R"
  )
  rm -rf "$T"
done
