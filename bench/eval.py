"""rampart eval against onnxruntime + scikit-learn, and its fairness report
against Fairlearn's MetricFrame, on the same data in the same run.

    python3 -m venv /tmp/eval-venv
    /tmp/eval-venv/bin/pip install -r tools/requirements-eval.txt fairlearn
    cargo build --release -p rampart
    /tmp/eval-venv/bin/python bench/eval.py [ROWS]

KEEP=DIR keeps the data and the two models in DIR.

Makes ROWS (1,000,000) rows of 20 float features, a binary label and
three sensitive columns (2, 3 and 4 values) as Parquet in a temporary
folder; trains a 100-tree random forest (depth 8) and an MLP (64 hidden
units) on 50,000 other rows and exports both with skl2onnx. Then, for
each model, the best of REPEAT (3) runs of:

- rampart: `rampart eval MODEL --data X.parquet` with no bootstrap (the
  work the peer does: read, infer, 13 metrics) and with the default
  1,000 resamples;
- peer: pandas.read_parquet, onnxruntime's InferenceSession.run on all
  rows, and scikit-learn's 13 metrics (the same list).

Fairness: MetricFrame with 7 metrics by the 3 sensitive columns (24
intersectional groups) plus the 8 Fairlearn aggregates, on the
predictions already made; rampart's cost is its run with --sensitive
minus its run without (both without bootstrap).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier

ROOT = pathlib.Path(__file__).resolve().parent.parent
RAMPART = os.environ.get("RAMPART", str(ROOT / "target/release/rampart"))
REPEAT = int(os.environ.get("REPEAT", "3"))
FEATURES = [f"f{i}" for i in range(20)]


def make(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 20)).astype(np.float32)
    s1 = rng.choice(["a", "b"], rows)
    s2 = rng.choice(["x", "y", "z"], rows, p=[0.5, 0.3, 0.2])
    s3 = rng.choice(["p", "q", "r", "s"], rows)
    logit = x[:, 0] + 0.8 * x[:, 1] - 0.5 * x[:, 2] * x[:, 3] + 0.3 * (s1 == "a")
    y = (logit + rng.normal(scale=0.8, size=rows) > 0).astype(np.int64)
    df = pd.DataFrame(x, columns=FEATURES)
    df["y"], df["s1"], df["s2"], df["s3"] = y, s1, s2, s3
    return df


def best(f):
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def rampart(model, data, *flags):
    cmd = [RAMPART, "eval", str(model), "--data", str(data), "--label", "y",
           "--features", ",".join(FEATURES), "--json", *flags]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        sys.exit(f"{cmd}: {out.stderr}")
    return json.loads(out.stdout)


def peer(model, data):
    df = pd.read_parquet(data)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    label, proba = sess.run(None, {sess.get_inputs()[0].name: df[FEATURES].to_numpy(np.float32)})
    y = df["y"].to_numpy()
    p1 = proba[:, 1].astype(np.float64)
    m = {
        "accuracy": skm.accuracy_score(y, label),
        "balanced_accuracy": skm.balanced_accuracy_score(y, label),
        "precision_macro": skm.precision_score(y, label, average="macro"),
        "recall_macro": skm.recall_score(y, label, average="macro"),
        "f1_macro": skm.f1_score(y, label, average="macro"),
        "precision_weighted": skm.precision_score(y, label, average="weighted"),
        "recall_weighted": skm.recall_score(y, label, average="weighted"),
        "f1_weighted": skm.f1_score(y, label, average="weighted"),
        "roc_auc": skm.roc_auc_score(y, p1),
        "average_precision": skm.average_precision_score(y, p1),
        "log_loss": skm.log_loss(y, proba.astype(np.float64)),
        "brier_score": skm.brier_score_loss(y, p1),
    }
    return m, label, df


def fairlearn_report(y, label, df):
    import fairlearn.metrics as fm

    sf = df[["s1", "s2", "s3"]]
    fns = {
        "selection_rate": fm.selection_rate,
        "true_positive_rate": fm.true_positive_rate,
        "false_positive_rate": fm.false_positive_rate,
        "false_negative_rate": fm.false_negative_rate,
        "precision": lambda a, b: skm.precision_score(a, b, zero_division=0),
        "accuracy": skm.accuracy_score,
        "count": fm.count,
    }
    frame = fm.MetricFrame(metrics=fns, y_true=y, y_pred=label, sensitive_features=sf)
    kw = {"y_true": y, "y_pred": label, "sensitive_features": sf}
    aggs = [
        fm.demographic_parity_difference(**kw), fm.demographic_parity_ratio(**kw),
        fm.equalized_odds_difference(**kw), fm.equalized_odds_difference(**kw, agg="mean"),
        fm.equalized_odds_ratio(**kw), fm.equalized_odds_ratio(**kw, agg="mean"),
        fm.equal_opportunity_difference(**kw), fm.equal_opportunity_ratio(**kw),
    ]
    return frame.by_group, aggs


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    # KEEP=DIR keeps the data and models there (to profile one run).
    keep = os.environ.get("KEEP")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(keep or tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        train = make(50_000, 1)
        test = make(rows, 2)
        data = tmp / "test.parquet"
        test.to_parquet(data, index=False)
        x, y = train[FEATURES].to_numpy(np.float32), train["y"].to_numpy()
        models = {
            "forest": RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0),
            "mlp": MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0),
        }
        print(f"{rows} rows x 20 features, {os.cpu_count()} cores, best of {REPEAT}")
        for name, m in models.items():
            m.fit(x, y)
            path = tmp / f"{name}.onnx"
            path.write_bytes(to_onnx(m, x[:1], options={"zipmap": False}).SerializeToString())
            t_peer, (ref, label, df) = best(lambda: peer(path, data))
            t_r0, rep = best(lambda: rampart(path, data, "--bootstrap", "0"))
            t_r1k, _ = best(lambda: rampart(path, data))
            ours = {m["metric"]: m["value"] for m in rep["metrics"]}
            worst = max(abs(ours[k] - v) for k, v in ref.items())
            print(f"{name}: onnxruntime+sklearn {t_peer:.2f} s; rampart {t_r0:.2f} s "
                  f"({t_peer / t_r0:.2f}x), with 1000 bootstrap resamples {t_r1k:.2f} s; "
                  f"metrics agree to {worst:.1e}")
            if name == "forest":
                t_fl, _ = best(lambda: fairlearn_report(df["y"].to_numpy(), label, df))
                t_rs, rs = best(lambda: rampart(path, data, "--bootstrap", "0",
                                                "--sensitive", "s1,s2,s3"))
                extra = max(t_rs - t_r0, 1e-3)
                groups = len(rs["fairness"]["groups"])
                print(f"fairness ({groups} groups): Fairlearn MetricFrame + 8 aggregates "
                      f"{t_fl:.2f} s; rampart's added time {extra:.3f} s ({t_fl / extra:.0f}x)")


if __name__ == "__main__":
    main()
