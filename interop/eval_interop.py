"""Checks `rampart eval` against the reference implementations.

    python3 -m venv /tmp/eval-venv
    /tmp/eval-venv/bin/pip install -r tools/requirements-eval.txt fairlearn aif360
    RAMPART=target/release/rampart /tmp/eval-venv/bin/python interop/eval_interop.py

1. Predictions: onnxruntime on every row of the Adult test set equals the
   probabilities `--predictions` wrote, to 1e-5, and the labels exactly.
2. Metrics: scikit-learn on the predictions Rampart wrote equals
   Rampart's report to 1e-9 (binary on Adult; multiclass and a regressor
   on generated data).
3. Fairness: Fairlearn's MetricFrame and aggregate functions on the same
   predictions equal Rampart's per-group rates and aggregates to 1e-9, by
   sex and race on Adult and on a generated intersectional case of three
   sensitive features; AIF360's disparate impact equals Rampart's.

Exits 1 on the first mismatch, naming it.
"""

import gzip
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import pandas as pd
from sklearn import metrics as skm

ROOT = pathlib.Path(__file__).resolve().parent.parent
RAMPART = os.environ.get("RAMPART", str(ROOT / "target/release/rampart"))
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
TOL = 1e-9
checked = 0


def fail(what):
    print(f"MISMATCH {what}")
    sys.exit(1)


def close(name, ours, theirs, tol=TOL):
    global checked
    if ours is None or theirs is None or not np.isfinite(theirs):
        if not (ours is None and (theirs is None or not np.isfinite(theirs))):
            fail(f"{name}: rampart {ours}, reference {theirs}")
    elif abs(ours - theirs) > tol:
        fail(f"{name}: rampart {ours!r}, reference {theirs!r} (diff {abs(ours - theirs):.3g})")
    checked += 1


def rampart_eval(model, data, label, *flags, tmp):
    preds = pathlib.Path(tmp) / f"preds-{checked}.parquet"
    cmd = [RAMPART, "eval", str(model), "--data", str(data), "--label", label,
           "--bootstrap", "0", "--json", "--predictions", str(preds), *flags]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        fail(f"{' '.join(cmd)} exited {out.returncode}: {out.stderr}")
    return json.loads(out.stdout), pd.read_parquet(preds)


def metric(report, name):
    for m in report["metrics"]:
        if m["metric"] == name:
            return m["value"]
    return None


def check_classifier(report, preds, classes):
    y = preds["truth"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    p = preds["predicted"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    proba = preds[[f"proba_{c}" for c in classes]].to_numpy()
    k = len(classes)
    labels = list(range(k))
    ref = {
        "accuracy": skm.accuracy_score(y, p),
        "balanced_accuracy": skm.balanced_accuracy_score(y, p),
        "precision_macro": skm.precision_score(y, p, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y, p, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(y, p, average="macro", zero_division=0),
        "precision_weighted": skm.precision_score(y, p, average="weighted", zero_division=0),
        "recall_weighted": skm.recall_score(y, p, average="weighted", zero_division=0),
        "f1_weighted": skm.f1_score(y, p, average="weighted", zero_division=0),
        "log_loss": skm.log_loss(y, proba, labels=labels),
    }
    if k == 2:
        ref["roc_auc"] = skm.roc_auc_score(y, proba[:, 1])
        ref["average_precision"] = skm.average_precision_score(y, proba[:, 1])
        ref["brier_score"] = skm.brier_score_loss(y, proba[:, 1])
    else:
        ref["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
        onehot = np.eye(k)[y]
        ref["average_precision"] = skm.average_precision_score(onehot, proba, average="macro")
        ref["brier_score"] = skm.brier_score_loss(y, proba, labels=labels)
    for name, value in ref.items():
        close(f"{name} (k={k})", metric(report, name), value)
    # ECE: ten equal-width bins of the predicted class's probability.
    conf = proba[np.arange(len(p)), p]
    bins = np.clip(np.ceil(conf * 10).astype(int), 1, 10) - 1
    ece = sum(
        (bins == b).sum() / len(p) * abs((p[bins == b] == y[bins == b]).mean() - conf[bins == b].mean())
        for b in range(10) if (bins == b).any()
    )
    close("expected_calibration_error", metric(report, "expected_calibration_error"), ece)


def check_fairness(report, preds, data, sensitive, positive, privileged=None):
    import fairlearn.metrics as fm

    y = (preds["truth"] == positive).astype(int).to_numpy()
    p = (preds["predicted"] == positive).astype(int).to_numpy()
    sf = data[sensitive].astype(str).reset_index(drop=True)
    kw = {"y_true": y, "y_pred": p, "sensitive_features": sf}
    fns = {
        "selection_rate": fm.selection_rate,
        "true_positive_rate": fm.true_positive_rate,
        "false_positive_rate": fm.false_positive_rate,
        "false_negative_rate": fm.false_negative_rate,
        "precision": lambda a, b: skm.precision_score(a, b, zero_division=0),
        "accuracy": skm.accuracy_score,
        "count": fm.count,
    }
    frame = fm.MetricFrame(metrics=fns, **kw).by_group
    ours = {tuple(g["group"][f] for f in sensitive): g for g in report["fairness"]["groups"]}
    if len(ours) != len(frame):
        fail(f"groups: rampart {len(ours)}, Fairlearn {len(frame)}")
    for key, row in frame.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        g = ours.get(tuple(str(k) for k in key))
        if g is None:
            fail(f"group {key} missing")
        for name in fns:
            close(f"{key} {name}", float(g[name]), float(row[name]))
    aggs = dict(report["fairness"]["aggregates"])
    ref = {
        "demographic_parity_difference": fm.demographic_parity_difference(**kw),
        "demographic_parity_ratio": fm.demographic_parity_ratio(**kw),
        "equalized_odds_difference": fm.equalized_odds_difference(**kw),
        "equalized_odds_difference_mean": fm.equalized_odds_difference(**kw, agg="mean"),
        "equalized_odds_ratio": fm.equalized_odds_ratio(**kw),
        "equalized_odds_ratio_mean": fm.equalized_odds_ratio(**kw, agg="mean"),
        "equal_opportunity_difference": fm.equal_opportunity_difference(**kw),
        "equal_opportunity_ratio": fm.equal_opportunity_ratio(**kw),
    }
    for name, value in ref.items():
        close(f"{'x'.join(sensitive)} {name}", aggs.get(name), value)
    if privileged is not None:
        check_aif360(aggs["disparate_impact"], y, p, data[sensitive].astype(str), privileged)


def check_aif360(ours, y, p, sf, privileged):
    """AIF360's ClassificationMetric.disparate_impact on the same decisions,
    the privileged group given as one value per sensitive feature."""
    try:
        from aif360.datasets import BinaryLabelDataset
        from aif360.metrics import ClassificationMetric
    except ImportError as e:
        fail(f"aif360 is not installed ({e}): pip install aif360")
    df = pd.DataFrame({"y": y})
    codes = {}
    for f in sf.columns:
        # AIF360 wants numeric protected attributes: 1 privileged, 0 not.
        df[f] = (sf[f].to_numpy() == privileged[f]).astype(float)
        codes[f] = 1.0
    truth = BinaryLabelDataset(df=df, label_names=["y"], protected_attribute_names=list(sf.columns))
    pred = truth.copy(deepcopy=True)
    pred.labels = p.reshape(-1, 1).astype(float)
    priv = [codes]
    # Every row outside the privileged combination is unprivileged.
    n = len(sf.columns)
    unpriv = [{f: float(v) for f, v in zip(sf.columns, bits)}
              for bits in np.ndindex(*([2] * n)) if any(b == 0 for b in bits)]
    cm = ClassificationMetric(truth, pred, unprivileged_groups=unpriv, privileged_groups=priv)
    close("disparate_impact (AIF360)", ours, cm.disparate_impact())


def adult(tmp):
    model = ROOT / "examples/eval/adult-gb.onnx"
    data = ROOT / "datasets/adult-test.csv.gz"
    classes = ["<=50K", ">50K"]
    report, preds = rampart_eval(
        model, data, "income", "--classes", ",".join(classes), "--features", ",".join(FEATURES),
        "--sensitive", "sex,race", "--privileged", "sex=Male,race=White", tmp=tmp)
    with gzip.open(data, "rt") as f:
        df = pd.read_csv(f)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    label, proba = sess.run(None, {sess.get_inputs()[0].name: df[FEATURES].to_numpy(np.float32)})
    ours = preds[[f"proba_{c}" for c in classes]].to_numpy()
    diff = np.abs(ours - proba).max()
    if diff > 1e-5:
        fail(f"probabilities differ from onnxruntime's by {diff}")
    if not (preds["predicted"].map({c: i for i, c in enumerate(classes)}).to_numpy() == label).all():
        fail("labels differ from onnxruntime's")
    print(f"onnxruntime: {len(df)} rows, probabilities within {diff:.2g}, labels equal")
    check_classifier(report, preds, classes)
    check_fairness(report, preds, df, ["sex", "race"], ">50K", {"sex": "Male", "race": "White"})
    check_fairness_single(df, tmp)


def check_fairness_single(df, tmp):
    model = ROOT / "examples/eval/adult-stump.onnx"
    data = ROOT / "datasets/adult-test.csv.gz"
    report, preds = rampart_eval(
        model, data, "income", "--classes", "<=50K,>50K", "--features", ",".join(FEATURES),
        "--sensitive", "sex", "--privileged", "sex=Male", tmp=tmp)
    check_classifier(report, preds, ["<=50K", ">50K"])
    check_fairness(report, preds, df, ["sex"], ">50K", {"sex": "Male"})


def generated(tmp):
    """A 3-class model and an intersectional case of three sensitive
    features, made here with scikit-learn and skl2onnx."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    n = 5000
    x = rng.normal(size=(n, 4)).astype(np.float32)
    a = rng.choice(["a0", "a1"], n)
    b = rng.choice(["b0", "b1", "b2"], n, p=[0.6, 0.3, 0.1])
    c = rng.choice(["c0", "c1"], n, p=[0.9, 0.1])
    y3 = np.digitize(x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.8, size=n), [-0.5, 0.5])
    m3 = LogisticRegression(max_iter=500).fit(x, y3)
    path = pathlib.Path(tmp) / "three.onnx"
    path.write_bytes(to_onnx(m3, x[:1], options={"zipmap": False}).SerializeToString())
    df = pd.DataFrame(x, columns=["f0", "f1", "f2", "f3"])
    df["y"] = np.array(["lo", "mid", "hi"])[y3]
    df["a"], df["b"], df["c"] = a, b, c
    csv = pathlib.Path(tmp) / "gen.csv"
    df.to_csv(csv, index=False)
    classes = ["lo", "mid", "hi"]
    report, preds = rampart_eval(
        path, csv, "y", "--classes", ",".join(classes), "--features", "f0,f1,f2,f3",
        "--sensitive", "a,b,c", "--positive", "hi", "--privileged", "a=a0,b=b0,c=c0", tmp=tmp)
    check_classifier(report, preds, classes)
    check_fairness(report, preds, df, ["a", "b", "c"], "hi", {"a": "a0", "b": "b0", "c": "c0"})
    print(f"generated: 3 classes, {len(report['fairness']['groups'])} intersectional groups")


def regression(tmp):
    """The gradient-boosting regressor fixture (education_num from four
    other columns) on the Adult test set."""
    model = ROOT / "crates/rampart-eval/tests/fixtures/gbreg.onnx"
    data = ROOT / "datasets/adult-test.csv.gz"
    report, preds = rampart_eval(
        model, data, "education_num", "--features", "age,capital_gain,capital_loss,hours_per_week",
        tmp=tmp)
    y, p = preds["truth"].to_numpy(), preds["predicted"].to_numpy()
    close("mean_absolute_error", metric(report, "mean_absolute_error"), skm.mean_absolute_error(y, p))
    close("root_mean_squared_error", metric(report, "root_mean_squared_error"),
          skm.root_mean_squared_error(y, p))
    close("r2", metric(report, "r2"), skm.r2_score(y, p))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        adult(tmp)
        generated(tmp)
        regression(tmp)
    print(f"OK: {checked} values equal scikit-learn's, Fairlearn's, AIF360's and onnxruntime's")


if __name__ == "__main__":
    main()
