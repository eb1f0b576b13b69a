#!/usr/bin/env python3
"""False alarms on real ML objects: every file tools/gen_ml_globals.py
writes (each scikit-learn estimator, xgboost, lightgbm, catboost, pandas,
scipy and numpy object, pickled with protocols 2 to 5 and with joblib and
each of its compressors), scanned by Rampart, picklescan, modelscan and
modelaudit in the same run, each over the whole folder.

A file is flagged when a tool reports it: Rampart at medium or above (what
fails its gate by default), picklescan a "dangerous import", modelscan any
issue, modelaudit any issue at warning or above. "Not read" counts the
files a tool did not analyse (not recognised, or a parse error).

Usage:
    PEERS_VENV=/tmp/peers python3 bench/real_benign.py [CORPUS_DIR]
The corpus is generated first when CORPUS_DIR does not exist.
"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RAMPART = os.path.join(ROOT, "target", "release", "rampart")
VENV = os.environ.get("PEERS_VENV", "/tmp/peers")
BIN = os.path.join(VENV, "bin")


def run(cmd):
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1", PROMPTFOO_DISABLE_TELEMETRY="1"))
    return p, time.time() - t


def rampart(corpus, files):
    p, secs = run([RAMPART, "scan", corpus, "--format", "json"])
    r = json.loads(p.stdout)
    flagged = {os.path.basename(f["location"]["path"]) for f in r["findings"] if f["severity"] in ("medium", "high", "critical")}
    unread = {os.path.basename(f["location"]["path"]) for f in r["findings"] if f["rule"] in ("SCAN-UNKNOWN-FORMAT", "SCAN-CORRUPT")}
    return flagged, unread, secs


def picklescan(corpus, files):
    p, secs = run([os.path.join(BIN, "picklescan"), "-p", corpus])
    out = p.stdout + p.stderr
    flagged = {os.path.basename(m) for m in re.findall(r"^(\S+): dangerous import", out, re.M)}
    errors = {os.path.basename(m) for m in re.findall(r"parsing pickle in (\S+):", out)}
    scanned = int(re.search(r"Scanned files: (\d+)", out).group(1))
    # Files it did not scan at all are not listed; count them by difference.
    unread_count = len(files) - scanned + len(errors)
    return flagged, unread_count, secs


def modelscan(corpus, files):
    report = "/tmp/real_benign_modelscan.json"
    _, secs = run([os.path.join(BIN, "modelscan"), "-p", corpus, "-r", "json", "-o", report])
    r = json.load(open(report))
    flagged = {os.path.basename(i["source"]) for i in r["issues"]}
    scanned = r["summary"]["scanned"]["total_scanned"]
    unread_count = len(files) - scanned + len(r["errors"])
    return flagged, unread_count, secs


def modelaudit(corpus, files):
    report = "/tmp/real_benign_modelaudit.json"
    _, secs = run([os.path.join(BIN, "modelaudit"), "scan", "--no-cache", "--format", "json", "-o", report, corpus])
    r = json.load(open(report))
    flagged = set()
    for i in r.get("issues", []):
        if i.get("severity") in ("warning", "critical", "error"):
            loc = i.get("location") or ""
            flagged.add(os.path.basename(loc.split(" ")[0].split(":")[0]))
    flagged.discard("")
    scanned = r.get("files_scanned", len(files))
    return flagged, len(files) - scanned, secs


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "/tmp/rampart-real-benign"
    if not os.path.isdir(corpus):
        subprocess.run([os.path.join(BIN, "python"), os.path.join(ROOT, "tools", "gen_ml_globals.py"), "--corpus", corpus, "--out", "/tmp/real_benign_globals.txt"], check=True)
    files = sorted(os.listdir(corpus))
    print(f"{len(files)} files in {corpus}\n")
    print("| tool | flagged (false alarms) | not read | seconds |")
    print("|---|---:|---:|---:|")
    for name, tool in (("rampart", rampart), ("picklescan", picklescan), ("modelscan", modelscan), ("modelaudit", modelaudit)):
        flagged, unread, secs = tool(corpus, files)
        unread = unread if isinstance(unread, int) else len(unread)
        print(f"| {name} | {len(flagged)} | {unread} | {secs:.1f} |")
        for f in sorted(flagged)[:10]:
            print(f"|   {f} | | | |", file=sys.stderr)


if __name__ == "__main__":
    main()
