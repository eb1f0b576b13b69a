#!/usr/bin/env python3
"""Drift: Rampart against Evidently on the same data, in one run.

    /tmp/peers/bin/python bench/drift.py [ROWS] [BIG_ROWS] [NULL_RUNS]

Needs numpy, pandas<3, scipy and evidently (a throwaway venv), and a
release build (cargo build --release).

Data: 20 columns, 15 numeric (normal, column i with mean i and standard
deviation 1 + i/10) and 5 categorical (8 values, skewed shares). The
current data differs from the reference in four columns:
  n0 shifted by 0.05 standard deviations, n1 by 0.5, n2 scaled by 1.2,
  c0 with 5% of its rows moved from its first value to its second.
The other 16 columns are drawn from the same distribution, so any alarm on
them is false.

Measured:
- Evidently's DataDriftPreset (defaults: Wasserstein and Jensen-Shannon
  above 1,000 rows) and with tests (num_method="ks",
  cat_method="chisquare": a test per column, no correction), on ROWS vs ROWS, each in a child process so that its peak
  RSS is its own; times are the report alone (CSV loading not counted);
- Evidently end to end: from the child's first line (imports) to the
  report saved as JSON, which is what a user waits for (the interpreter's
  own start is not counted);
- Rampart end to end (GNU time): `data drift` on the ROWS files, and on
  BIG_ROWS files both raw and as `data profile` of the reference followed
  by `data drift PROFILE CURRENT`, from CSV and from the same data in
  Parquet (written by pandas/pyarrow); the BIG_ROWS runs are the median
  of three;
- detection: the columns each flags, against the four truly drifted;
- NULL_RUNS more pairs of ROWS vs ROWS with no drift at all (new seeds):
  false alarms of Evidently's tests and Rampart's with Benjamini-Hochberg;
- agreement: Rampart's normalised Wasserstein and Jensen-Shannon values
  against Evidently's on the same columns.
"""
import json
import pathlib
import subprocess
import sys

from timed import rampart
DRIFTED = {"n0", "n1", "n2", "c0"}
WORK = pathlib.Path("/tmp/rampart-drift-bench")


def make(rows, seed, drift, path):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(15):
        sd = 1 + i / 10
        x = rng.normal(i, sd, rows)
        if drift and i == 0:
            x += 0.05 * sd
        if drift and i == 1:
            x += 0.5 * sd
        if drift and i == 2:
            x = i + (x - i) * 1.2
        cols[f"n{i}"] = x
    shares = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.04, 0.03])
    for j in range(5):
        p = shares.copy()
        if drift and j == 0:
            p[0] -= 0.05
            p[1] += 0.05
        cols[f"c{j}"] = rng.choice([f"v{j}{k}" for k in range(8)], size=rows, p=p)
    pd.DataFrame(cols).to_csv(path, index=False, float_format="%.6g")


EVIDENTLY_CHILD = r"""
import time
start = time.perf_counter()
import json, resource, sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_csv(sys.argv[1]); cur = pd.read_csv(sys.argv[2])
preset = DataDriftPreset() if sys.argv[3] == "default" else DataDriftPreset(num_method="ks", cat_method="chisquare")
w = time.perf_counter()
snap = Report([preset]).run(reference_data=ref, current_data=cur)
wall = time.perf_counter() - w
snap.save_json(sys.argv[4])
end_to_end = time.perf_counter() - start
flagged, values = [], {}
for m in snap.dict()["metrics"]:
    c = m["config"]
    if c.get("type") != "evidently:metric_v2:ValueDrift":
        continue
    v, t = m["value"], c["threshold"]
    values[c["column"]] = [c["method"], v]
    p_value = c["method"] in ("ks", "chisquare", "z") or "p_value" in c["method"]
    if (v < t) if p_value else (v >= t):
        flagged.append(c["column"])
print(json.dumps({"wall": wall, "end_to_end": end_to_end, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "flagged": sorted(flagged), "values": values}))
"""


def evidently(ref, cur, method):
    report = WORK / "evidently-report.json"
    out = subprocess.run([sys.executable, "-c", EVIDENTLY_CHILD, str(ref), str(cur), method, str(report)],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def median3(run):
    """The run of median wall time among three."""
    return sorted((run() for _ in range(3)), key=lambda r: r["wall"])[1]


def rampart_profile(data, out):
    out.unlink(missing_ok=True)
    _, wall, cpu, rss = rampart(["data", "profile", str(data), "-o", str(out)])
    return {"wall": wall, "cpu": cpu, "rss_mb": rss}


def rampart_drift(ref, cur, *extra):
    out, wall, cpu, rss = rampart(["data", "drift", str(ref), str(cur), "--json", *extra])
    report = json.loads(out)
    flagged = sorted(c["column"] for c in report["columns"] if c["drifted"])
    return {"wall": wall, "cpu": cpu, "rss_mb": rss, "flagged": flagged, "report": report}


def quality(flagged):
    hit = DRIFTED & set(flagged)
    return f"{len(hit)}/4 ({', '.join(sorted(hit))})", len(set(flagged) - DRIFTED)


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    null_runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    WORK.mkdir(exist_ok=True)
    files = {}
    for name, n, seed, drift in [("ref", rows, 1, False), ("cur", rows, 2, True),
                                 ("ref_big", big, 3, False), ("cur_big", big, 4, True)]:
        files[name] = WORK / f"{name}_{n}.csv"
        if not files[name].exists():
            make(n, seed, drift, files[name])

    ev_default = evidently(files["ref"], files["cur"], "default")
    ev_ks = evidently(files["ref"], files["cur"], "ks")
    ra = rampart_drift(files["ref"], files["cur"])
    for name in ("ref_big", "cur_big"):
        files[name + "_pq"] = files[name].with_suffix(".parquet")
        if not files[name + "_pq"].exists():
            import pandas as pd
            pd.read_csv(files[name]).to_parquet(files[name + "_pq"], index=False)
    ra_big = median3(lambda: rampart_drift(files["ref_big"], files["cur_big"]))
    profile = WORK / "ref_big.profile.json"
    prof = median3(lambda: rampart_profile(files["ref_big"], profile))
    ra_prof = median3(lambda: rampart_drift(profile, files["cur_big"]))
    ra_big_pq = median3(lambda: rampart_drift(files["ref_big_pq"], files["cur_big_pq"]))
    profile_pq = WORK / "ref_big_pq.profile.json"
    prof_pq = median3(lambda: rampart_profile(files["ref_big_pq"], profile_pq))
    ra_prof_pq = median3(lambda: rampart_drift(profile_pq, files["cur_big_pq"]))

    print(f"{rows:,} vs {rows:,} rows x 20 columns (truly drifted: n0 +0.05 sd, n1 +0.5 sd, n2 x1.2 sd, c0 5% moved)\n")
    print("| run | data | wall s | peak RSS MB | drifted found | false alarms |")
    print("|---|---|---:|---:|---|---:|")
    for name, data, r in [("Evidently DataDriftPreset (default), report only", f"{rows:,} CSV", ev_default),
                          ("Evidently DataDriftPreset, KS/chi-square tests", f"{rows:,} CSV", ev_ks),
                          ("rampart data drift (auto: KS/chi2 + BH)", f"{rows:,} CSV", ra),
                          ("rampart data drift, raw files", f"{big:,} CSV", ra_big),
                          ("rampart data drift PROFILE CURRENT", f"{big:,} CSV", ra_prof),
                          ("rampart data drift, raw files", f"{big:,} Parquet", ra_big_pq),
                          ("rampart data drift PROFILE CURRENT", f"{big:,} Parquet", ra_prof_pq)]:
        found, false = quality(r["flagged"])
        print(f"| {name} | {data} | {r['wall']:.2f} | {r['rss_mb']:.0f} | {found} | {false} |")
    print(f"| rampart data profile (reference) | {big:,} CSV | {prof['wall']:.2f} | {prof['rss_mb']:.0f} | | |")
    print(f"| rampart data profile (reference) | {big:,} Parquet | {prof_pq['wall']:.2f} | {prof_pq['rss_mb']:.0f} | | |")
    report, e2e = ev_default["wall"], ev_default["end_to_end"]
    print(f"\nEvidently's default report on {rows:,}: {report:.2f} s for the report, "
          f"{e2e:.2f} s end to end (imports, reading the CSVs, report, saved as JSON)")
    for data, p, d in [("CSV", prof, ra_prof), ("Parquet", prof_pq, ra_prof_pq)]:
        total = p["wall"] + d["wall"]
        print(f"rampart profile + drift of {big:,} rows from {data}: {total:.2f} s wall "
              f"({p['wall']:.2f} + {d['wall']:.2f}): {report / total:.1f}x faster than the report alone, "
              f"{e2e / total:.1f}x faster end to end")
    print(f"rampart drift of {big:,} raw rows: {report / ra_big['wall']:.1f}x (CSV), "
          f"{report / ra_big_pq['wall']:.1f}x (Parquet) faster than the report alone")

    # Agreement with Evidently's own distances on the same columns.
    worst = 0.0
    for col in (f"n{i}" for i in range(15)):
        ev = ev_default["values"][col][1]
        ours = next(c for c in ra["report"]["columns"] if c["column"] == col)["wasserstein_norm"]
        worst = max(worst, abs(ev - ours))
    for col in (f"c{j}" for j in range(5)):
        ev = ev_default["values"][col][1]
        ours = next(c for c in ra["report"]["columns"] if c["column"] == col)["jensen_shannon"]
        worst = max(worst, abs(ev - ours))
    print(f"largest difference from Evidently's Wasserstein (normed) and Jensen-Shannon values: {worst:.2e}")

    # False alarms with no drift at all.
    ev_false, ra_false = [], []
    for k in range(null_runs):
        a, b = WORK / f"null_a{k}.csv", WORK / f"null_b{k}.csv"
        if not a.exists():
            make(rows, 100 + 2 * k, False, a)
            make(rows, 101 + 2 * k, False, b)
        ev_false.append(len(evidently(a, b, "ks")["flagged"]))
        ra_false.append(len(rampart_drift(a, b)["flagged"]))
    print(f"\n{null_runs} pairs with no drift ({rows:,} vs {rows:,}): columns flagged per pair")
    print(f"- Evidently, KS/chi-square per column without correction: {ev_false} (total {sum(ev_false)})")
    print(f"- Rampart, KS/chi2 with Benjamini-Hochberg: {ra_false} (total {sum(ra_false)})")


if __name__ == "__main__":
    main()
