#!/usr/bin/env python3
"""Interop of Rampart's attestations and checkpoints with independent
implementations. Run by interop/ledger.sh (venv with securesystemslib and
in-toto from pip; rampart built).

1. DSSE, Rampart -> securesystemslib: the envelope `rampart scan` appends
   to the ledger verifies with securesystemslib's DSSE Envelope.verify and
   the project's public key, and its payload parses as an in-toto
   Statement v1 with in-toto's own model; an edited payload does not
   verify.
2. DSSE, securesystemslib -> Rampart: an envelope signed by
   securesystemslib's CryptoSigner with the project key, appended with
   `rampart ledger append`, is listed by `rampart evidence` with its
   signature verified; one signed by another key is refused.
3. Checkpoints: the note `rampart ledger checkpoint` signs is parsed and
   verified by this script's own reading of C2SP tlog-checkpoint and
   signed-note (key ID from the key name and key, Ed25519 over the text),
   written from the specifications, not from Rampart's code; an edited note
   fails.

Prints one line per check and exits 1 on any failure.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

RAMPART = os.environ["RAMPART"]
failures = 0


def check(name, ok):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    failures += not ok


def run(args, cwd):
    return subprocess.run([RAMPART] + args, cwd=cwd, capture_output=True)


def rampart_key(cwd):
    pem = open(os.path.join(cwd, ".rampart", "attest.pub"), "rb").read()
    # Rampart's key ID is SHA-256 of the SPKI PEM text (model-signing's
    # key hint); securesystemslib matches signatures to keys by key ID.
    keyid = hashlib.sha256(pem).hexdigest()
    return SSlibKey.from_crypto(serialization.load_pem_public_key(pem), keyid=keyid)


def dsse_from_rampart(cwd):
    os.makedirs(os.path.join(cwd, "model"))
    open(os.path.join(cwd, "model", "config.json"), "w").write("{}")
    assert run(["scan", "-q", "model"], cwd).returncode == 0
    entry = run(["ledger", "show", "0"], cwd).stdout.rstrip(b"\n")
    env = Envelope.from_dict(json.loads(entry))
    key = rampart_key(cwd)
    try:
        env.verify([key], 1)
        verified = True
    except Exception:  # noqa: BLE001
        verified = False
    check("securesystemslib verifies the DSSE envelope of a rampart scan attestation", verified)
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    try:
        pb = json_format.Parse(env.payload, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
        valid = pb.type == "https://in-toto.io/Statement/v1" and pb.predicate_type.startswith("https://rampart.dev/attestation/scan/")
    except Exception as e:  # noqa: BLE001
        print(f"     {e}")
        valid = False
    check("in-toto-attestation parses and validates the payload as a Statement v1", valid)
    env.payload = env.payload.replace(b"scan", b"scam")
    try:
        env.verify([key], 1)
        check("securesystemslib refuses an edited payload", False)
    except Exception:  # noqa: BLE001
        check("securesystemslib refuses an edited payload", True)


def dsse_into_rampart(cwd):
    digest = hashlib.sha256(open(os.path.join(cwd, "artifact.bin"), "rb").read()).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.bin", "digest": {"sha256": digest}}],
        "predicateType": "https://rampart.dev/attestation/external/v1",
        "predicate": {"gate": "external", "passed": True},
    }
    priv = serialization.load_pem_private_key(open(os.path.join(cwd, ".rampart", "attest.key"), "rb").read(), None)
    for label, signer_key, expect_ok in (("the project key", priv, True), ("another key", None, False)):
        signer = CryptoSigner(signer_key) if signer_key else CryptoSigner.generate_ecdsa()
        env = Envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", {})
        env.sign(signer)
        path = os.path.join(cwd, f"env-{expect_ok}.json")
        open(path, "w").write(json.dumps(env.to_dict()))
        assert run(["ledger", "append", path], cwd).returncode == 0
        out = run(["evidence", "artifact.bin", "--format", "json"], cwd)
        found = json.loads(out.stdout)["attestations"]
        last = found[-1] if found else {}
        ok = last.get("signature_verified") is expect_ok
        check(f"rampart evidence {'accepts' if expect_ok else 'refuses'} a securesystemslib envelope signed with {label}", ok)


def checkpoint(cwd):
    note = run(["ledger", "checkpoint"], cwd).stdout.decode()
    vkey = open(os.path.join(cwd, ".rampart", "ledger.vkey")).read().strip()
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    pub = raw[1:]
    expect_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
    check("the verifier key's ID is SHA-256(name || \\n || 0x01 || key)[:4]", raw[0] == 1 and expect_id.hex() == key_id_hex)

    def verify(text):
        body, _, sigs = text.rpartition("\n\n")
        body += "\n"
        lines = body[:-1].split("\n")
        if len(lines) < 3 or not lines[1].isdigit() or len(base64.b64decode(lines[2])) != 32:
            return False
        for line in sigs.strip("\n").split("\n"):
            if not line.startswith("\u2014 "):
                return False
            sname, sig_b64 = line[2:].split(" ")
            sig = base64.b64decode(sig_b64)
            if sname == name and sig[:4] == expect_id:
                try:
                    ed25519.Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], body.encode())
                    return True
                except Exception:  # noqa: BLE001
                    return False
        return False

    check("an independent C2SP reader verifies the rampart checkpoint", verify(note))
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    check("an edited tree size fails the independent reader", not verify("\n".join(lines)))


def main():
    with tempfile.TemporaryDirectory() as cwd:
        assert run(["ledger", "init", "--origin", "interop.example/ledger"], cwd).returncode == 0
        open(os.path.join(cwd, "artifact.bin"), "wb").write(b"model bytes")
        dsse_from_rampart(cwd)
        dsse_into_rampart(cwd)
        checkpoint(cwd)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
