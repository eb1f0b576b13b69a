#!/usr/bin/env bash
# HopSkipJump, SimBA and Square on 1,000 inputs: Rampart against IBM ART
# on onnxruntime, the same models, inputs and query budget (the interop
# script's runs, timed). Rampart's time is the whole `rampart eval`
# process (reading the data, the evaluation, the attack); ART's is its
# attacks' generate() calls alone.
set -euo pipefail
exec bash "$(dirname "$0")/../interop/attacks.sh" --bench
