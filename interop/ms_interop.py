#!/usr/bin/env python3
"""Interop of `rampart sign`/`verify` with the OpenSSF `model-signing`
package (key method), both directions, and tamper cases in both tools.

Run by interop/model_signing.sh (which makes the venv and builds rampart).
For each folder shape, with the files and the shards method:

  model_signing signs  -> rampart verify must accept
  rampart signs        -> model_signing verify must accept
  then each tamper (byte changed, file added, removed, renamed, wrong key,
  truncated JSON, edited digest, payload type changed) must be refused by
  both tools.

model_signing's CLI always re-hashes with the files method, so the shards
method goes through its Python API (verifying.Config, which reads the
method from the signature). Prints a Markdown table; exits 1 on any
unexpected outcome.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import model_signing
import model_signing.hashing
import model_signing.signing
import model_signing.verifying

RAMPART = os.environ["RAMPART"]
SHARD = 1 << 20


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE).returncode


MS_CLI = os.path.join(os.path.dirname(sys.executable), "model_signing")


def ms_sign(model, sig, key, shards):
    if not shards:
        assert run([MS_CLI, "sign", "key", model, "--private_key", key, "--signature", sig]) == 0
        return
    cfg = model_signing.signing.Config().use_elliptic_key_signer(private_key=key)
    h = model_signing.hashing.Config()
    h = h.use_shard_serialization(shard_size=SHARD) if shards else h.use_file_serialization()
    cfg.set_hashing_config(h.set_ignored_paths(paths=[sig], ignore_git_paths=True)).sign(model, sig)


def ms_verify(model, sig, pub, shards=True):
    if not shards:
        return run([MS_CLI, "verify", "key", model, "--public_key", pub, "--signature", sig]) == 0
    try:
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)
        return True
    except Exception:  # noqa: BLE001  (any failure is a refusal)
        return False


def rp_sign(model, sig, key, shards):
    extra = ["--method", "shards", "--shard-size", str(SHARD)] if shards else []
    assert run([RAMPART, "sign", model, "--key", key, "-s", sig] + extra) == 0


def rp_verify(model, sig, pub):
    return run([RAMPART, "verify", model, "--key", pub, "-s", sig]) == 0


def shapes(root):
    """Folder shapes the issue names."""
    def make(name, files):
        d = os.path.join(root, name)
        for rel, data in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        return d
    yield make("empty_files", {"a": b"", "b": b"", "c/d": b"x"})
    yield make("nested", {"x/y/z/w.bin": b"1" * 1000, "x/y.json": b"{}", "x.txt": b"t", "x/a": b"a"})
    yield make("many_small", {f"f{i:03d}/part.json": json.dumps({"i": i}).encode() for i in range(200)})
    yield make("one_large", {"model.safetensors": os.urandom(1 << 20) * 24 + b"tail"})


def tampers(model, sig, other_pub):
    """(name, undo) pairs; each applies one change to the folder or the
    signature, and returns the public key to verify with."""
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(model) for f in fs if not f.endswith(".sig"))
    target = next(f for f in files if os.path.getsize(f) > 0)
    original_sig = open(sig, "rb").read()

    def byte_changed():
        data = bytearray(open(target, "rb").read())
        data[len(data) // 2] ^= 1
        open(target, "wb").write(data)

    def added():
        open(os.path.join(model, "added.py"), "wb").write(b"import os")

    def removed():
        os.remove(target)

    def renamed():
        os.rename(target, target + ".renamed")

    def truncated():
        open(sig, "wb").write(original_sig[: len(original_sig) // 2])

    def edited_digest():
        b = json.loads(original_sig)
        p = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
        r = p["predicate"]["resources"][0]
        r["digest"] = ("0" if r["digest"][0] != "0" else "1") + r["digest"][1:]
        b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(p).encode()).decode()
        open(sig, "w").write(json.dumps(b))

    def payload_type():
        b = json.loads(original_sig)
        b["dsseEnvelope"]["payloadType"] = "application/json"
        open(sig, "w").write(json.dumps(b))

    return [("byte changed", byte_changed), ("file added", added), ("file removed", removed),
            ("file renamed", renamed), ("wrong key", None), ("truncated signature JSON", truncated),
            ("edited digest in the signature", edited_digest), ("payload type changed", payload_type)]


CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "rampart-attest", "tests", "fixtures")


def cert(name):
    return os.path.join(CERTS, name)


def cert_cases(work, src):
    """The certificate method on one folder: both directions, a changed
    byte and an untrusted root refused by both, and a signing certificate
    without the code-signing usage (Rampart refuses it; model_signing does
    not check the usage)."""
    rows, bad = [], 0
    for leaf in ("leaf", "noeku"):
        for signer in ("model_signing", "rampart"):
            model = os.path.join(work, "c")
            shutil.rmtree(model, ignore_errors=True)
            shutil.copytree(src, model)
            sig = os.path.join(work, "c.sig")
            if signer == "model_signing":
                assert run([MS_CLI, "sign", "certificate", model, "--private_key", cert(leaf + ".key"), "--signing_certificate", cert(leaf + ".pem"),
                            "--certificate_chain", cert("intermediate.pem"), "--signature", sig]) == 0
            else:
                code = run([RAMPART, "sign", model, "--key", cert(leaf + ".key"), "--cert", cert(leaf + ".pem"), "--chain", cert("intermediate.pem"), "-s", sig])
                if leaf == "noeku":
                    rows.append(("certificate", "rampart signs with a certificate without code signing", "rampart sign refused" if code == 2 else f"ACCEPTED ({code})"))
                    bad += code != 2
                    continue
                assert code == 0
            def both(root):
                rp = run([RAMPART, "verify", model, "--ca", cert(root), "-s", sig]) == 0
                ms = run([MS_CLI, "verify", "certificate", model, "--signature", sig, "--certificate_chain", cert(root)]) == 0
                return rp, ms
            word = lambda ok: "accepted" if ok else "refused"
            rp, ms = both("root.pem")
            if leaf == "leaf":
                rows.append(("certificate", f"{signer} signs (code-signing certificate)", f"rampart {word(rp)}, model_signing {word(ms)}"))
                bad += not (rp and ms)
                rp, ms = both("other-root.pem")
                rows.append(("certificate", f"{signer}'s signature, untrusted root", f"rampart {word(rp)}, model_signing {word(ms)}"))
                bad += rp or ms
                with open(os.path.join(model, "x.txt"), "ab") as f:
                    f.write(b"!")
                rp, ms = both("root.pem")
                rows.append(("certificate", f"{signer}'s signature, byte changed", f"rampart {word(rp)}, model_signing {word(ms)}"))
                bad += rp or ms
            else:
                rows.append(("certificate", f"{signer} signs with a certificate without code signing", f"rampart {word(rp)}, model_signing {word(ms)} (it does not check the usage)"))
                bad += rp
    return rows, bad


def main():
    work = tempfile.mkdtemp(prefix="rampart-ms-")
    keys = os.path.join(work, "keys")
    os.makedirs(keys)
    assert run([RAMPART, "keygen", os.path.join(keys, "a")]) == 0
    assert run([RAMPART, "keygen", os.path.join(keys, "b")]) == 0
    key, pub, other_pub = (os.path.join(keys, n) for n in ("a.key", "a.pub", "b.pub"))
    rows, bad = [], 0
    for src in shapes(os.path.join(work, "src")):
        for shards in (False, True):
            method = "shards" if shards else "files"
            for signer, verifier_name, sign_fn, verify_fn in (
                ("model_signing", "rampart", ms_sign, rp_verify),
                ("rampart", "model_signing", rp_sign, lambda m, s, p: ms_verify(m, s, p, shards)),
            ):
                model = os.path.join(work, "m")
                shutil.rmtree(model, ignore_errors=True)
                shutil.copytree(src, model)
                sig = os.path.join(model, "model.sig")
                sign_fn(model, sig, key, shards)
                ok = verify_fn(model, sig, pub)
                rows.append((os.path.basename(src), method, f"{signer} signs, {verifier_name} verifies", "accepted" if ok else "REFUSED"))
                bad += not ok
                for name, apply in tampers(model, sig, other_pub):
                    shutil.rmtree(model + ".t", ignore_errors=True)
                    shutil.copytree(model, model + ".t")
                    tsig = os.path.join(model + ".t", "model.sig")
                    tmodel = model + ".t"
                    verify_pub = other_pub
                    if apply is not None:
                        # Re-bind the closures to the copy.
                        for f_name, f in tampers(tmodel, tsig, other_pub):
                            if f_name == name:
                                f()
                        verify_pub = pub
                    refused = (not rp_verify(tmodel, tsig, verify_pub), not ms_verify(tmodel, tsig, verify_pub, shards))
                    rows.append((os.path.basename(src), method, f"{signer}'s signature, {name}",
                                 f"rampart {'refused' if refused[0] else 'ACCEPTED'}, model_signing {'refused' if refused[1] else 'ACCEPTED'}"))
                    bad += not all(refused)
    crows, cbad = cert_cases(work, os.path.join(work, "src", "nested"))
    rows += [("nested",) + r for r in crows]
    bad += cbad
    print(f"model_signing {model_signing.__version__}\n")
    print("| folder | method | case | outcome |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\n{len(rows)} cases, {bad} unexpected")
    shutil.rmtree(work)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
