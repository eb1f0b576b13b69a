#!/usr/bin/env python3
"""Duplicates and a planted backdoor trigger: Rampart against pandas and
cleanlab's Datalab on the same data, in one run.

    /tmp/peers/bin/python bench/poison.py [ROWS]

Needs numpy, pandas<3, scikit-learn and cleanlab[datalab] (a throwaway
venv), and a release build.

Data (seed 2026): ROWS rows of 10 numeric features (4 decimals), 2
categories, a text of 5 words from 500, and a label of 3 classes (a, b, c
at 50/30/20%) that follows the features. Planted:
- 1% exact duplicates: copies of random rows, inserted at random places;
- 1% near duplicates: copies with one numeric value moved by 0.001;
- a backdoor trigger: 0.6% of the rows get the word "cf" added to their
  text and their label set to c.
Detection is counted per row: a planted pair is its two rows; a tool's
rows are those in its duplicate groups (Rampart: `duplicate` and
`near-duplicate` findings with `--near 0.8`; pandas: `duplicated(keep=False)`
for exact copies; Datalab: its near_duplicate issue on the numeric
features), and for the trigger the rows of Rampart's `backdoor-trigger`
findings; cleanlab's find_label_issues (out-of-fold LogisticRegression on
the features) and Rampart's `--label-issues` are scored on the same
poisoned rows, as another way to catch them.
"""
import json
import pathlib
import subprocess
import sys

from timed import rampart
WORK = pathlib.Path("/tmp/rampart-poison-bench")


def make(rows, path):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(2026)
    n = rows
    label = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    centre = {"a": 0.0, "b": 1.5, "c": -1.5}
    x = rng.normal(0, 1, (n, 10)) + np.array([centre[l] for l in label])[:, None] * (np.arange(10) < 4)
    words = np.array([f"w{i}" for i in range(500)])
    df = pd.DataFrame(np.round(x, 4), columns=[f"x{i}" for i in range(10)])
    df["colour"] = rng.choice(["red", "green", "blue"], size=n)
    df["size"] = rng.choice(["s", "m", "l", "xl"], size=n)
    df["text"] = [" ".join(rng.choice(words, 5)) for _ in range(n)]
    df["y"] = label
    df["kind"] = "clean"
    df["pair"] = -1
    # The trigger: 0.6% of the rows.
    trig = rng.choice(n, size=int(n * 0.006), replace=False)
    df.loc[trig, "text"] = df.loc[trig, "text"] + " cf"
    df.loc[trig, "y"] = "c"
    df.loc[trig, "kind"] = "trigger"
    # Exact and near copies of rows that are neither triggers nor copied twice.
    pool = np.setdiff1d(np.arange(n), trig)
    chosen = rng.choice(pool, size=2 * int(n * 0.01), replace=False)
    copies = []
    for k, i in enumerate(chosen):
        row = df.loc[i].copy()
        near = k % 2 == 1
        if near:
            j = rng.integers(0, 10)
            row[f"x{j}"] = round(row[f"x{j}"] + 0.001, 4)
        row["kind"] = "near" if near else "exact"
        row["pair"] = k
        df.loc[i, "pair"] = k
        df.loc[i, "kind"] = "near-original" if near else "exact-original"
        copies.append(row)
    full = pd.concat([df, pd.DataFrame(copies)], ignore_index=True)
    full = full.sample(frac=1.0, random_state=2026).reset_index(drop=True)
    full.drop(columns=["kind", "pair"]).to_csv(path, index=False)
    full[["kind", "pair"]].to_csv(path.with_suffix(".truth.csv"), index=False)


PEER = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
from cleanlab import Datalab
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
df = pd.read_csv(sys.argv[1])
features = df[[f"x{i}" for i in range(10)]].to_numpy()
out = {}
w = time.perf_counter()
exact = df.duplicated(keep=False)
out["pandas_s"] = time.perf_counter() - w
out["pandas"] = np.flatnonzero(exact.to_numpy()).tolist()
w = time.perf_counter()
lab = Datalab(data=df, label_name="y", verbosity=0)
lab.find_issues(features=features, issue_types={"near_duplicate": {}})
out["datalab_s"] = time.perf_counter() - w
issues = lab.get_issues("near_duplicate")
out["datalab"] = np.flatnonzero(issues["is_near_duplicate_issue"].to_numpy()).tolist()
y = pd.Categorical(df["y"]).codes
w = time.perf_counter()
probs = cross_val_predict(LogisticRegression(), features, y, cv=5, method="predict_proba")
out["cleanlab"] = np.flatnonzero(find_label_issues(y, probs)).tolist()
out["cleanlab_s"] = time.perf_counter() - w
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def main():
    import pandas as pd
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    WORK.mkdir(exist_ok=True)
    data = WORK / f"poison_{rows}.csv"
    if not data.exists():
        make(rows, data)
    truth = pd.read_csv(data.with_suffix(".truth.csv"))
    dup_exact = set(truth.index[truth["kind"].isin(["exact", "exact-original"])])
    dup_near = set(truth.index[truth["kind"].isin(["near", "near-original"])])
    trigger = set(truth.index[truth["kind"] == "trigger"])

    peer = json.loads(subprocess.run([sys.executable, "-c", PEER, str(data)], capture_output=True,
                                     check=True).stdout)
    out, wall, _, rss = rampart(["data", "poison", data, "--label", "y", "--near", "0.8", "--label-issues",
                                 "--json"])
    report = json.loads(out)

    def rows_of(kinds, key="rows"):
        # Lines are 1-based with the header on line 1: row index = line - 2.
        out = set()
        for f in report["findings"]:
            if f["kind"] in kinds:
                if key == "rows":
                    out.update(r - 2 for r in f["rows"])
                else:
                    out.update(r - 1 for r in f["drop"])
        return out

    def score(found, truth_rows):
        hit = len(found & truth_rows)
        return f"{hit / max(len(found), 1):.3f}", f"{hit / max(len(truth_rows), 1):.3f}", len(found)

    print(f"{len(truth):,} rows: {len(dup_exact) // 2} exact pairs, {len(dup_near) // 2} near pairs, "
          f"{len(trigger)} rows with the trigger word (labelled c)\n")
    print("| check | tool | rows flagged | precision | recall | time s |")
    print("|---|---|---:|---:|---:|---:|")
    for name, tool, found, t, truth_rows in [
        ("exact duplicates", "pandas duplicated(keep=False)", set(peer["pandas"]), peer["pandas_s"], dup_exact),
        ("exact duplicates", "rampart (duplicate)", rows_of({"duplicate"}), None, dup_exact),
        ("exact + near duplicates", "cleanlab Datalab near_duplicate", set(peer["datalab"]), peer["datalab_s"],
         dup_exact | dup_near),
        ("exact + near duplicates", "rampart (duplicate, near-duplicate --near 0.8)",
         rows_of({"duplicate", "near-duplicate"}), None, dup_exact | dup_near),
        ("backdoor trigger rows", "rampart (backdoor-trigger)", rows_of({"backdoor-trigger"}, "drop"), None,
         trigger),
        ("backdoor trigger rows, as label errors", "scikit-learn + cleanlab find_label_issues",
         set(peer["cleanlab"]), peer["cleanlab_s"], trigger),
        ("backdoor trigger rows, as label errors", "rampart (label-issue)", rows_of({"label-issue"}, "drop"),
         None, trigger),
    ]:
        precision, recall, n = score(found, truth_rows)
        shown = f"{t:.2f}" if t is not None else "(one run below)"
        print(f"| {name} | {tool} | {n:,} | {precision} | {recall} | {shown} |")
    print(f"\nrampart, every check above in one command: {wall:.2f} s wall, {rss:.0f} MB "
          f"peak RSS; cleanlab's process (Datalab, label issues, pandas): {peer['rss_mb']:.0f} MB peak RSS")
    print("label errors are scored against the trigger rows only: other rows they flag may be real label noise")


if __name__ == "__main__":
    main()
