#!/usr/bin/env python3
"""Hashing speed of `rampart sign`/`verify` against OpenSSF model_signing
(CLI and hashing API) and `openssl dgst -sha256`, on the same generated
2 GiB folder (eight 256 MiB files and twenty small JSON files) in one run.

    bash bench/sign.sh     # makes the venv and builds rampart, then runs this

Every command runs REPEAT (3) times after one warm-up (the folder is in the
page cache: this measures hashing, not the disk); the best wall time is
kept, with its peak RSS from /usr/bin/time -v. Prints a Markdown table.
"""
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out", "sign")
MODEL = os.path.join(OUT, "model")
RAMPART = os.path.join(ROOT, "target", "release", "rampart")
VENV = os.environ.get("MS_VENV", "/tmp/rampart-model-signing")
PY = os.path.join(VENV, "bin", "python")
REPEAT = int(os.environ.get("REPEAT", "3"))


def make_folder():
    os.makedirs(MODEL, exist_ok=True)
    block = os.urandom(1 << 20)
    for i in range(8):
        p = os.path.join(MODEL, f"model-{i:05d}-of-00008.safetensors")
        if not os.path.exists(p) or os.path.getsize(p) != 256 << 20:
            with open(p, "wb") as f:
                for j in range(256):
                    f.write(bytes([i, j]) + block[2:])
    for i in range(20):
        with open(os.path.join(MODEL, f"config-{i}.json"), "w") as f:
            f.write('{"layer": %d}' % i)


def run(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t0
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode()[-2000:]}")
    return wall, rss


def best(cmd):
    run(cmd)
    results = [run(cmd) for _ in range(REPEAT)]
    return min(results)


def api(code):
    return [PY, "-c", "import model_signing.hashing as h\n" + code]


def main():
    make_folder()
    keys = os.path.join(OUT, "keys")
    if not os.path.exists(keys + ".key"):
        subprocess.run([RAMPART, "keygen", keys], check=True, stdout=subprocess.DEVNULL)
    files = sorted(os.path.join(MODEL, f) for f in os.listdir(MODEL) if not f.endswith(".sig"))
    size = sum(os.path.getsize(f) for f in files)
    sig = os.path.join(OUT, "rampart.sig")
    mssig = os.path.join(OUT, "ms.sig")
    cores = os.cpu_count()
    cases = [
        ("rampart sign (files, sha256)", [RAMPART, "sign", MODEL, "--key", keys + ".key", "-s", sig, "--no-cache"]),
        ("rampart verify (files, sha256)", [RAMPART, "verify", MODEL, "--key", keys + ".pub", "-s", sig, "--no-cache"]),
        ("rampart sign (shards of 64 MiB, sha256)", [RAMPART, "sign", MODEL, "--key", keys + ".key", "-s", sig + "2", "--method", "shards", "--shard-size", str(64 << 20), "--no-cache"]),
        ("rampart digest (files, blake3)", [RAMPART, "digest", MODEL, "--hash", "blake3"]),
        ("rampart verify, digest cache warm (nothing changed)", [RAMPART, "verify", MODEL, "--key", keys + ".pub", "-s", sig]),
        ("model_signing sign key (CLI, files, sha256)", [os.path.join(VENV, "bin", "model_signing"), "sign", "key", MODEL, "--private_key", keys + ".key", "--signature", mssig]),
        ("model_signing hashing API, files, sha256", api(f"h.Config().use_file_serialization(hashing_algorithm='sha256').hash({MODEL!r})")),
        ("model_signing hashing API, files, blake3", api(f"h.Config().use_file_serialization(hashing_algorithm='blake3').hash({MODEL!r})")),
        ("model_signing hashing API, shards of 64 MiB, sha256", api(f"h.Config().use_shard_serialization(hashing_algorithm='sha256', shard_size={64 << 20}).hash({MODEL!r})")),
        ("openssl dgst -sha256 (one process, files in turn)", ["openssl", "dgst", "-sha256"] + files),
        (f"openssl dgst -sha256 ({cores} processes, xargs -P{cores})", ["sh", "-c", f"ls {MODEL}/* | xargs -P{cores} -n1 openssl dgst -sha256 >/dev/null"]),
    ]
    rows = []
    for name, cmd in cases:
        wall, rss = best(cmd)
        rows.append((name, wall, rss))
        print(f"{name}: {wall:.3f} s, {rss} KiB", file=sys.stderr)
    speed = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes", "1048576", "-seconds", "3"], capture_output=True, text=True).stdout
    one_core = float(speed.strip().splitlines()[-1].split()[-1].rstrip("k")) * 1000
    target = 0.9 * one_core * cores
    print(f"Machine: {platform.machine()}, {cores} cores, {platform.platform()}; folder {size / (1 << 30):.2f} GiB in {len(files)} files (page cache)\n")
    print(f"`openssl speed -evp sha256` (1 MiB blocks, one core): {one_core / 1e9:.2f} GB/s; 90% of that x {cores} cores = {target / 1e9:.2f} GB/s\n")
    print("| command | best wall time (s) | GB/s | peak RSS (MiB) | rampart sign (sha256) is faster by |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0][1]
    for name, wall, rss in rows:
        ratio = "" if name.startswith("rampart") else f"{wall / base:.2f}x"
        print(f"| {name} | {wall:.3f} | {size / wall / 1e9:.2f} | {rss / 1024:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
