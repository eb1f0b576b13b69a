#!/usr/bin/env bash
# Seeds every fuzz corpus from examples/ (flat copies): the whole corpus
# for the scanner-wide targets, the samples of its format for each parser.
set -euo pipefail
cd "$(dirname "$0")"
seed() { # target, find -name patterns...
  local t=$1; shift
  mkdir -p "corpus/$t"
  find ../examples -type f ! -name expected.json \( "$@" \) | while read -r f; do
    cp "$f" "corpus/$t/$(echo "$f" | sed 's|^\.\./examples/||; s|/|_|g')"
  done
  echo "$t: $(ls "corpus/$t" | wc -l) seeds"
}
seed pickle_vm -name '*'
seed archive_walker -name '*'
seed safetensors_header -name '*.safetensors'
seed gguf_header -name '*.gguf'
seed onnx_model -name '*.onnx'
seed tensorflow_graph -name '*.pb'
seed tflite_model -name '*.tflite'
seed hdf5_root -name '*.h5'
seed keras_config -name '*.json'
seed chat_template -name 'tokenizer_config.json' -o -name '*.py'
seed pii_text -name '*.json' -o -name '*.txt'
# Table readers: the first byte picks the format (see the target).
mkdir -p corpus/table_reader corpus/pii_mask
i=0
for f in ../crates/rampart-pii/tests/data/pii_sample.jsonl ../examples/*/*.json; do
  [ -f "$f" ] || continue
  for fmt in 0 1 3 4; do printf "\\x0$fmt" | cat - <(head -c 4000 "$f") > "corpus/table_reader/seed-$i-$fmt"; done
  i=$((i+1))
done
printf '\x01id,name,email\n1,"Ann, B",a@example.com\n2,x\n' > corpus/table_reader/csv
head -c 2000 ../crates/rampart-pii/tests/data/pii_sample.jsonl > corpus/pii_mask/sample
echo "table_reader: $(ls corpus/table_reader | wc -l) seeds"
cargo run -q --manifest-path ../Cargo.toml -p rampart-table --example parquet_seeds -- "$PWD/corpus/parquet_reader"
echo "parquet_reader: $(ls corpus/parquet_reader | wc -l) seeds"
mkdir -p corpus/signature_bundle
for k in p256 ed25519; do
  t=$(mktemp -d); ../target/release/rampart keygen "$t/k" --algorithm $k >/dev/null
  ../target/release/rampart sign ../examples/benign/gguf --key "$t/k.key" -s "corpus/signature_bundle/$k.sig" >/dev/null
  rm -r "$t"
done
F=../crates/rampart-attest/tests/fixtures
../target/release/rampart sign ../examples/benign/gguf --key $F/leaf.key --cert $F/leaf.pem --chain $F/intermediate.pem -s corpus/signature_bundle/cert.sig >/dev/null
# A small profile, to be read, merged and written back.
mkdir -p corpus/profile_reader
t=$(mktemp -d); printf 'x,city\n1.5,Paris\n2,Lyon\n2,\n1e300,Nice\n-0.5,Paris\n' > "$t/d.csv"
../target/release/rampart data profile "$t/d.csv" -o corpus/profile_reader/profile.json >/dev/null
rm -r "$t"
echo "profile_reader: $(ls corpus/profile_reader | wc -l) seeds"
