#!/usr/bin/env python3
"""Label errors: Rampart's confident learning against cleanlab's, in one run.

    /tmp/peers/bin/python bench/labels.py [ROWS] [FLIP] [CLUSTERS]

Needs numpy, scikit-learn and cleanlab (a throwaway venv), and a release
build. Data: scikit-learn's make_classification (ROWS rows, 20 features of
which 10 informative, 3 classes, CLUSTERS clusters per class (default 1;
with 2, its default, no linear model separates the classes well), seed
2026), then FLIP (default 0.1) of the labels moved to another class at
random: those rows are the truth.

Measured, each on the same CSV:
- scikit-learn + cleanlab: out-of-fold probabilities from
  cross_val_predict(LogisticRegression(), cv=5, method="predict_proba"),
  then cleanlab.filter.find_label_issues(labels, pred_probs) (defaults);
- rampart with those same probabilities (--pred-probs): the rows found
  must be cleanlab's;
- rampart alone (--label-issues): its own 5-fold logistic regression,
  end to end (reading the CSV twice: typing columns, then features).
Precision and recall against the flipped rows, time and peak RSS.
"""
import json
import pathlib
import subprocess
import sys

import timed
WORK = pathlib.Path("/tmp/rampart-labels-bench")

PEER = r"""
import json, resource, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from cleanlab.filter import find_label_issues
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(int)
w = time.perf_counter()
probs = cross_val_predict(LogisticRegression(), x, y, cv=5, method="predict_proba")
model = time.perf_counter() - w
w = time.perf_counter()
issues = find_label_issues(y, probs)
cl = time.perf_counter() - w
np.savetxt(sys.argv[2], probs, delimiter=",", header=",".join(str(c) for c in range(probs.shape[1])), comments="")
print(json.dumps({"model_s": model, "cl_s": cl, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "flagged": np.flatnonzero(issues).tolist()}))
"""


def make(rows, flip, clusters, path, truth_path):
    import numpy as np
    from sklearn.datasets import make_classification
    x, y = make_classification(n_samples=rows, n_features=20, n_informative=10, n_redundant=4,
                               n_classes=3, n_clusters_per_class=clusters, random_state=2026)
    rng = np.random.default_rng(2026)
    flipped = rng.random(rows) < flip
    y = np.where(flipped, (y + rng.integers(1, 3, rows)) % 3, y)
    header = ",".join(f"f{j}" for j in range(20)) + ",y"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="",
               fmt=["%.6f"] * 20 + ["%d"])
    np.save(truth_path, flipped)


def poison(args):
    out, wall, cpu, rss = timed.rampart(["data", "poison", *args])
    report = json.loads(out)
    drop = [r for f in report["findings"] if f["kind"] == "label-issue" for r in f["drop"]]
    return {"wall": wall, "cpu": cpu, "rss_mb": rss, "flagged": [r - 1 for r in drop],
            "seconds": report["label_issues"]["seconds"]}


def score(flagged, truth):
    found = sum(1 for i in flagged if truth[i])
    return found / max(len(flagged), 1), found / max(int(truth.sum()), 1)


def main():
    import numpy as np
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    flip = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    clusters = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    WORK.mkdir(exist_ok=True)
    tag = f"{rows}_{flip}_{clusters}"
    data, truth_path = WORK / f"data_{tag}.csv", WORK / f"truth_{tag}.npy"
    if not data.exists():
        make(rows, flip, clusters, data, truth_path)
    truth = np.load(truth_path)
    probs = WORK / f"probs_{tag}.csv"
    peer = json.loads(subprocess.run([sys.executable, "-c", PEER, str(data), str(probs)],
                                     capture_output=True, check=True).stdout)
    same = poison([data, "--label", "y", "--pred-probs", probs, "--json"])
    own = poison([data, "--label", "y", "--label-issues", "--json"])
    print(f"{rows:,} rows x 20 features, 3 classes of {clusters} cluster(s) each, "
          f"{int(truth.sum()):,} labels flipped ({flip:.0%})\n")
    print("| run | flagged | precision | recall | time s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    p, r = score(peer["flagged"], truth)
    print(f"| scikit-learn LogisticRegression (5-fold) + cleanlab find_label_issues | {len(peer['flagged']):,} | "
          f"{p:.3f} | {r:.3f} | {peer['model_s']:.2f} + {peer['cl_s']:.2f} | {peer['rss_mb']:.0f} |")
    p, r = score(same["flagged"], truth)
    print(f"| rampart --pred-probs (the same probabilities) | {len(same['flagged']):,} | {p:.3f} | {r:.3f} | "
          f"{same['wall']:.2f} (end to end) | {same['rss_mb']:.0f} |")
    p, r = score(own["flagged"], truth)
    print(f"| rampart --label-issues (its own 5-fold logistic regression) | {len(own['flagged']):,} | {p:.3f} | "
          f"{r:.3f} | {own['wall']:.2f} (end to end; model + CL {own['seconds']:.2f}) | {own['rss_mb']:.0f} |")
    a, b = set(peer["flagged"]), set(same["flagged"])
    print(f"\nsame probabilities: {len(a & b):,} rows flagged by both, {len(a - b)} by cleanlab only, "
          f"{len(b - a)} by rampart only")


if __name__ == "__main__":
    main()
