#!/usr/bin/env python3
"""Detection comparison on the bundled corpus (examples/, expected.json):
how many malicious samples each scanner flags, and how many benign ones it
flags wrongly. Every tool sees the same files in the same run.

Flagged means: rampart exit 1 (findings at or above medium); picklescan,
modelscan and modelaudit exit 1 (their "issues found"). Other exit codes
are counted as errors or "nothing scanned" (modelscan exit 3).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EX = os.path.join(ROOT, "examples")
RAMPART = os.path.abspath(os.environ.get("RAMPART", os.path.join(ROOT, "target", "release", "rampart")))
VENV = os.environ.get("PEERS_VENV", "/tmp/rampart-peers")


def cmd(tool, path):
    b = os.path.join(VENV, "bin")
    return {
        "rampart": [RAMPART, "scan", "--quiet", path],
        "picklescan": [os.path.join(b, "picklescan"), "-p", path],
        "modelscan": [os.path.join(b, "modelscan"), "-p", path],
        "modelaudit": [os.path.join(b, "modelaudit"), "scan", "--no-cache", path],
    }[tool]


def folder_table(groups, tools):
    """Per folder, each tool's malicious flagged / malicious, benign
    flagged / benign: groups maps a folder to {"n": [m, b], tool: [m, b]}."""
    print("| folder | " + " | ".join(tools) + " |")
    print("|---|" + "---:|" * len(tools))
    for name, g in sorted(groups.items()):
        cells = [f"{g[t][0]}/{g['n'][0]}, {g[t][1]}/{g['n'][1]}" for t in tools]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main():
    expected = json.load(open(os.path.join(EX, "expected.json")))["files"]
    env = dict(os.environ, PROMPTFOO_DISABLE_TELEMETRY="1", NO_COLOR="1")
    tools = ["rampart", "picklescan", "modelscan", "modelaudit"]
    stats = {t: {"tp": 0, "fn": [], "fp": [], "err": 0} for t in tools}
    # Per sample folder (gguf, keras, onnx...): [malicious, benign] counts
    # and, per tool, [malicious flagged, benign flagged].
    groups = {}
    n_mal = sum(1 for e in expected.values() if e["verdict"] not in ("clean", "low", "info"))
    n_ben = len(expected) - n_mal
    for rel, exp in sorted(expected.items()):
        path = os.path.join(EX, rel)
        malicious = exp["verdict"] not in ("clean", "low", "info")
        for t in tools:
            try:
                code = subprocess.run(cmd(t, path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=300).returncode
            except subprocess.TimeoutExpired:
                code = -1
            flagged = code == 1
            g = groups.setdefault(rel.split("/")[1], {"n": [0, 0], **{x: [0, 0] for x in tools}})
            g[t][0 if malicious else 1] += int(flagged)
            s = stats[t]
            if code not in (0, 1):
                s["err"] += 1
            if malicious and flagged:
                s["tp"] += 1
            elif malicious:
                s["fn"].append(f"{rel} (exit {code})")
            elif flagged:
                s["fp"].append(rel)
        groups[rel.split("/")[1]]["n"][0 if malicious else 1] += 1
        print(rel, file=sys.stderr)
    print(f"| tool | malicious flagged (of {n_mal}) | benign flagged (of {n_ben}) | other exit codes (errors, nothing scanned) |")
    print("|---|---:|---:|---:|")
    for t in tools:
        s = stats[t]
        print(f"| {t} | {s['tp']} | {len(s['fp'])} | {s['err']} |")
    print("\nBy sample folder: malicious flagged / malicious, benign flagged / benign.\n")
    folder_table(groups, tools)
    for t in tools:
        s = stats[t]
        if s["fn"]:
            print(f"\n{t} missed: " + ", ".join(s["fn"]))
        if s["fp"]:
            print(f"\n{t} flagged benign: " + ", ".join(s["fp"]))


if __name__ == "__main__":
    main()
