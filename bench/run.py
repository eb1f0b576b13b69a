#!/usr/bin/env python3
"""Times `rampart scan` against picklescan, modelscan and modelaudit on the
same inputs in one run, and prints a Markdown table for BENCHMARKS.md.

    bench/run.sh    # installs the peers in a throwaway venv, then runs this

rampart runs REPEAT (5) times per input and each peer PEER_REPEAT (2) times
(they are slow); the best wall time is kept. Each run is under
/usr/bin/time -v, which gives the peak resident set size (RSS). Throughput
is input size / best wall time, process start included.
"""
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
ROOT = os.path.dirname(HERE)
RAMPART = os.path.join(ROOT, "target", "release", "rampart")
VENV = os.environ.get("PEERS_VENV", "/tmp/rampart-peers")
REPEAT = int(os.environ.get("REPEAT", "5"))
PEER_REPEAT = int(os.environ.get("PEER_REPEAT", "2"))
TIMEOUT = int(os.environ.get("TIMEOUT", "900"))

ALL = ["big_bytes.pkl", "dense_dict.pkl", "tuple_list.pkl", "torch_large.pt", "huge.gguf", "huge.safetensors", "big.onnx"]
# INPUTS=huge.gguf,big.onnx bench/run.py runs a subset.
INPUTS = [i for i in os.environ.get("INPUTS", ",".join(ALL)).split(",") if i]


def tools(path):
    b = os.path.join(VENV, "bin")
    return {
        "rampart": [RAMPART, "scan", "--quiet", "--format", "json", path],
        "picklescan": [os.path.join(b, "picklescan"), "-p", path],
        "modelscan": [os.path.join(b, "modelscan"), "-p", path],
        "modelaudit": [os.path.join(b, "modelaudit"), "scan", "--no-cache", path],
    }


def run(cmd):
    """One run under /usr/bin/time -v: (wall seconds, exit code, peak RSS KiB, stdout)."""
    env = dict(os.environ, PROMPTFOO_DISABLE_TELEMETRY="1", NO_COLOR="1")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, None, None, b"", "timeout"
    wall = time.perf_counter() - t0
    rss = None
    for line in p.stderr.decode(errors="replace").splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split()[-1])
    return wall, p.returncode, rss, p.stdout, None


def main():
    rows = []
    opcodes = {}
    for name in INPUTS:
        path = os.path.join(OUT, name)
        size = os.path.getsize(path)
        for tool, cmd in tools(path).items():
            best, code, rss, out, err = None, None, 0, b"", None
            for _ in range(REPEAT if tool == "rampart" else PEER_REPEAT):
                wall, code, r, out, err = run(cmd)
                if err:
                    break
                best = wall if best is None else min(best, wall)
                rss = max(rss, r or 0)
            if tool == "rampart" and out:
                try:
                    opcodes[name] = json.loads(out)["metrics"].get("opcodes", 0)
                except (ValueError, KeyError):
                    pass
            rows.append((name, size, tool, best, code, rss, err))
            print(f"{name} {tool}: {best} s, exit {code}, rss {rss} KiB {err or ''}", file=sys.stderr)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}\n")
    print("| input | size (MiB) | tool | best wall time (s) | throughput (MiB/s) | peak RSS (MiB) | exit | rampart is faster by |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    base = {(r[0]): r[3] for r in rows if r[2] == "rampart"}
    for name, size, tool, best, code, rss, err in rows:
        mib = size / (1 << 20)
        if err:
            print(f"| {name} | {mib:.0f} | {tool} | {err} | | | | |")
            continue
        speed = "" if tool == "rampart" or not base.get(name) else f"{best / base[name]:.1f}x"
        print(f"| {name} | {mib:.0f} | {tool} | {best:.3f} | {mib / best:.0f} | {rss / 1024:.1f} | {code} | {speed} |")
    for name, n in opcodes.items():
        t = base.get(name)
        if n and t and name.endswith(".pkl"):
            print(f"\nrampart on {name}: {n:,} opcodes in {t:.3f} s = {n / t / 1e6:.1f} million opcodes/s (including process start)")


if __name__ == "__main__":
    main()
