#!/usr/bin/env bash
# rampart encrypt/decrypt against the reference age implementation (Go,
# Debian's `age` package), both ways: X25519 recipients, a folder (tar), a
# passphrase (age reads it from a terminal, so `script` provides one), and
# a file each tool must refuse (wrong identity, altered ciphertext).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
R="$ROOT/target/release/rampart"
[ -x "$R" ] || (cd "$ROOT" && cargo build --release -q)
command -v age >/dev/null || { apt-get update -qq && apt-get install -y -qq age >/dev/null; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0; fail=0
check() { if "$@" >/dev/null 2>&1; then pass=$((pass+1)); echo "ok   $CASE"; else fail=$((fail+1)); echo "FAIL $CASE"; fi; }
refuse() { if "$@" >/dev/null 2>&1; then fail=$((fail+1)); echo "FAIL $CASE (accepted)"; else pass=$((pass+1)); echo "ok   $CASE"; fi; }
head -c 3000000 /dev/urandom > data.bin
mkdir -p folder/sub && cp data.bin folder/sub/ && echo "name,email" > folder/a.csv

"$R" age-keygen ours.txt > ours.pub 2>/dev/null
age-keygen -o theirs.txt 2>/dev/null; age-keygen -y theirs.txt > theirs.pub

CASE="rampart encrypts to an age key, age decrypts"
"$R" encrypt data.bin -o r1.age -r "$(cat theirs.pub)" >/dev/null
check bash -c "age -d -i theirs.txt -o r1.out r1.age && cmp r1.out data.bin"
CASE="age encrypts to a rampart key, rampart decrypts"
age -r "$(cat ours.pub)" -o a1.age data.bin
check bash -c "'$R' decrypt a1.age -o a1.out -i ours.txt && cmp a1.out data.bin"
CASE="age identity file read by rampart"
age -r "$(cat theirs.pub)" -o a2.age data.bin
check bash -c "'$R' decrypt a2.age -o a2.out -i theirs.txt && cmp a2.out data.bin"
CASE="rampart identity file read by age"
"$R" encrypt data.bin -o r2.age -r "$(cat ours.pub)" >/dev/null
check bash -c "age -d -i ours.txt -o r2.out r2.age && cmp r2.out data.bin"
CASE="a folder from rampart is a tar age can decrypt"
"$R" encrypt folder -o f.age -r "$(cat theirs.pub)" >/dev/null
check bash -c "age -d -i theirs.txt f.age | tar -x -C \$(mkdir -p ft && echo ft) && diff -r folder ft"
CASE="a tar from age comes back through rampart as that tar (only folders rampart packed are unpacked)"
tar -c -C folder . > plain.tar
age -r "$(cat ours.pub)" -o t.age plain.tar
check bash -c "'$R' decrypt t.age -o tback.tar -i ours.txt && cmp plain.tar tback.tar"
CASE="rampart passphrase file decrypted by age"
PW=hunter2-correct-horse "$R" encrypt data.bin -o p1.age --passphrase-env PW >/dev/null
check bash -c "(sleep 1; printf 'hunter2-correct-horse\\n'; sleep 2) | timeout 20 script -qec 'age -d -o p1.out p1.age' /dev/null >/dev/null; cmp p1.out data.bin"
CASE="age passphrase file decrypted by rampart"
(sleep 1; printf 'hunter2-correct-horse\n'; sleep 1; printf 'hunter2-correct-horse\n'; sleep 2) | timeout 20 script -qec 'age -p -o p2.age data.bin' /dev/null >/dev/null 2>&1 || true
check bash -c "PW=hunter2-correct-horse '$R' decrypt p2.age -o p2.out --passphrase-env PW && cmp p2.out data.bin"
CASE="rampart refuses an age file for another key"
refuse "$R" decrypt a2.age -o x1.out -i ours.txt
CASE="age refuses a rampart file for another key"
refuse age -d -i ours.txt -o x2.out r1.age
CASE="rampart refuses an altered age file and writes nothing"
cp a1.age bad.age; printf '\x00' | dd of=bad.age bs=1 seek=2000000 conv=notrunc 2>/dev/null
refuse "$R" decrypt bad.age -o x3.out -i ours.txt
[ ! -e x3.out ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL plaintext left behind"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
