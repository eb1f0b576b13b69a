#!/usr/bin/env bash
# Test certificates for the certificate method, written with openssl into
# crates/rampart-attest/tests/fixtures/ (committed; valid for 100 years):
#   root.pem          a root CA (P-256)
#   intermediate.pem  an intermediate CA signed by the root
#   leaf.pem/leaf.key a code-signing certificate signed by the intermediate
#   noeku.pem/.key    a certificate without the code-signing usage
#   other-root.pem    an unrelated root
set -euo pipefail
cd "$(dirname "$0")/../crates/rampart-attest/tests/fixtures"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
leaf_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning"
noeku_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth"
key "$T/root.key"; key "$T/int.key"; key leaf.key; key noeku.key; key "$T/other.key"
openssl req -x509 -new -key "$T/root.key" -subj "/CN=Rampart Test Root" -days 36500 -addext "$(echo "$ca_ext" | head -1)" -addext "$(echo "$ca_ext" | tail -1)" -out root.pem
openssl req -x509 -new -key "$T/other.key" -subj "/CN=Unrelated Root" -days 36500 -addext "basicConstraints=critical,CA:TRUE" -out other-root.pem
sign() { # key subject issuer-cert issuer-key ext out
  openssl req -new -key "$1" -subj "$2" -out "$T/req.csr"
  echo "$5" > "$T/ext.cnf"
  openssl x509 -req -in "$T/req.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days 36500 -extfile "$T/ext.cnf" -out "$6" 2>/dev/null
}
sign "$T/int.key" "/CN=Rampart Test Intermediate" root.pem "$T/root.key" "$ca_ext" intermediate.pem
sign leaf.key "/CN=Rampart Test Signer" intermediate.pem "$T/int.key" "$leaf_ext" leaf.pem
sign noeku.key "/CN=Rampart Test Server" intermediate.pem "$T/int.key" "$noeku_ext" noeku.pem
rm -f ./*.srl
ls
