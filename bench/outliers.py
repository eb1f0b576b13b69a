#!/usr/bin/env python3
"""Isolation Forest: Rampart against scikit-learn on the same data, in one run.

    /tmp/gen/bin/python bench/outliers.py [ROWS] [SEEDS]

Needs numpy and scikit-learn, and a release build (cargo build --release).
Generates ROWS rows of 20 numeric features (correlated Gaussian blobs,
seed 2026) with 1% planted outliers: rows moved 3 to 5 standard
deviations along a few random features, which do not stand out on any
single feature by much. Writes them to a CSV (without the truth), then
for each seed 0..SEEDS-1:

- scikit-learn: IsolationForest(random_state=seed) fit and score_samples
  on the array in memory (CSV loading not counted), in a child process
  so that its peak RSS is its own;
- Rampart: `rampart data poison FILE --outliers --seed S --scores OUT`,
  end to end (it reads the CSV three times: for the duplicate checks,
  to type the columns, and for the features).

Prints ROC-AUC per seed and averaged, time and peak RSS.
"""
import json
import pathlib
import subprocess
import sys

import timed


def make(rows, path, truth_path):
    import numpy as np
    rng = np.random.default_rng(2026)
    d = 20
    centers = rng.normal(0, 3, size=(4, d))
    mix = rng.normal(0, 1, size=(d, d)) / np.sqrt(d)
    blob = rng.integers(0, 4, size=rows)
    x = rng.normal(0, 1, size=(rows, d)) @ mix + centers[blob]
    n_out = rows // 100
    out = rng.choice(rows, size=n_out, replace=False)
    for i in out:
        k = rng.integers(2, 5)
        f = rng.choice(d, size=k, replace=False)
        x[i, f] += rng.choice([-1, 1], size=k) * rng.uniform(3, 5, size=k) * x[:, f].std(axis=0)
    truth = np.zeros(rows, dtype=np.int8)
    truth[out] = 1
    np.savetxt(path, x, delimiter=",", header=",".join(f"f{j}" for j in range(d)), comments="", fmt="%.6f")
    np.save(truth_path, truth)


SKLEARN_CHILD = r"""
import json, resource, sys, time
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
truth = np.load(sys.argv[2])
seed = int(sys.argv[3])
t = time.process_time(); w = time.perf_counter()
f = IsolationForest(random_state=seed).fit(x)
s = -f.score_samples(x)
cpu = time.process_time() - t; wall = time.perf_counter() - w
print(json.dumps({"auc": roc_auc_score(truth, s), "cpu": cpu, "wall": wall, "fit_score": wall,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def rampart(path, seed, scores):
    """CPU, wall and peak RSS end to end (GNU time), and the report's own
    time to fit the forest and score every row."""
    out, wall, cpu, rss = timed.rampart(["data", "poison", path, "--outliers", "--seed", seed, "--scores", scores,
                                         "--json"])
    return cpu, wall, rss, json.loads(out)["outliers"]["seconds_to_fit_and_score"]


def main():
    import numpy as np
    from sklearn.metrics import roc_auc_score
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    path = pathlib.Path(f"/tmp/rampart-outliers-{rows}.csv")
    truth_path = path.with_suffix(".truth.npy")
    if not path.exists():
        make(rows, path, truth_path)
    truth = np.load(truth_path)
    results = {"sklearn": [], "rampart": []}
    for seed in range(seeds):
        out = subprocess.run([sys.executable, "-c", SKLEARN_CHILD, str(path), str(truth_path), str(seed)],
                             capture_output=True, check=True)
        results["sklearn"].append(json.loads(out.stdout))
        scores = path.with_suffix(f".scores{seed}.csv")
        cpu, wall, rss, forest = rampart(path, seed, scores)
        s = np.loadtxt(scores, delimiter=",", skiprows=1)[:, 2]
        results["rampart"].append({"auc": roc_auc_score(truth, s), "cpu": cpu, "wall": wall, "rss_mb": rss,
                                   "fit_score": forest})
    print(f"{rows} rows x 20 features, {int(truth.sum())} planted outliers, seeds 0..{seeds - 1}\n")
    print("| tool | ROC-AUC per seed | mean AUC | fit + score s (mean) | CPU s (mean) | wall s (mean) | peak RSS MB (max) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for tool, rs in results.items():
        aucs = ", ".join(f"{r['auc']:.4f}" for r in rs)
        mean = sum(r["auc"] for r in rs) / len(rs)
        fit = sum(r["fit_score"] for r in rs) / len(rs)
        cpu = sum(r["cpu"] for r in rs) / len(rs)
        wall = sum(r["wall"] for r in rs) / len(rs)
        rss = max(r["rss_mb"] for r in rs)
        print(f"| {tool} | {aucs} | {mean:.4f} | {fit:.2f} | {cpu:.2f} | {wall:.2f} | {rss:.0f} |")
    print("\nscikit-learn: times are fit and score on the array in memory; its RSS includes that array;")
    print("rampart: end to end (reading the CSV three times: duplicate checks, typing columns, features); fit + score")
    print("is the forest alone, from the report.")


if __name__ == "__main__":
    main()
