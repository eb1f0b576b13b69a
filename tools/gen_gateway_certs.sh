#!/usr/bin/env bash
# TLS fixtures for the gateway's tests, written with openssl into
# crates/rampart-gateway/tests/fixtures/tls/ (committed; valid 100 years):
#   ca.pem                 the CA clients and the server chain to (P-256)
#   server.pem/server.key  127.0.0.1 and localhost, signed by ca
#   client.pem/client.key  a client certificate, SAN DNS scorer.internal
#   other-ca.pem           an unrelated CA
#   stranger.pem/.key      a client certificate from other-ca, same SAN
set -euo pipefail
cd "$(dirname "$0")/../crates/rampart-gateway/tests/fixtures"
mkdir -p tls && cd tls
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { key "$T/$1.key"; openssl req -x509 -new -key "$T/$1.key" -subj "/CN=$2" -days 36500 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"; }
leaf() { # name ca cn san eku
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$3" -out "$T/$1.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$5" "$4" > "$T/$1.ext"
  openssl x509 -req -in "$T/$1.csr" -CA "$2.pem" -CAkey "$T/$2.key" -CAcreateserial -days 36500 \
    -extfile "$T/$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca "Rampart test CA"
ca other-ca "Another CA"
leaf server ca "rampart gateway" "DNS:localhost,IP:127.0.0.1" serverAuth
leaf client ca "scorer client" "DNS:scorer.internal" clientAuth
leaf stranger other-ca "scorer client" "DNS:scorer.internal" clientAuth
rm -f ./*.srl
