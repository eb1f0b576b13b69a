"""Makes the evaluation gates' models with the real trainers and exporters,
and records onnxruntime's outputs so that `cargo test` checks the
in-process (tract) path against the reference runtime without Python.

    python3 -m venv /tmp/onnx-venv
    /tmp/onnx-venv/bin/pip install -r tools/requirements-eval.txt
    /tmp/onnx-venv/bin/python tools/gen_eval_models.py

Writes:
- examples/eval/adult-gb.onnx and adult-stump.onnx: the README's worked
  example. Gradient boosting (50 trees of depth 3) on five numeric
  columns of the bundled Adult census data (datasets/adult.csv.gz), and
  a worse version of it (one tree of depth 1), both with classes 0
  (<=50K) and 1 (>50K).
- crates/rampart-eval/tests/fixtures/*.onnx: one model per exporter and
  kind (logistic regression, random forest, gradient boosting, an MLP
  from skl2onnx; xgboost and lightgbm from onnxmltools; gradient-boosting
  and random-forest regressors),
  and expected.json: for each, the inputs and onnxruntime's outputs.
"""

import gzip
import json
import pathlib

import numpy as np
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/rampart-eval/tests/fixtures"
EXAMPLE = ROOT / "examples/eval"
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
OPSET = {"": 15, "ai.onnx.ml": 3}


def adult(name):
    with gzip.open(ROOT / "datasets" / name, "rt") as f:
        df = pd.read_csv(f)
    x = df[FEATURES].to_numpy(dtype=np.float32)
    y = (df["income"] == ">50K").to_numpy(dtype=np.int64)
    return x, y


def export(model, x, path):
    options = {"zipmap": False} if hasattr(model, "classes_") else None
    onx = to_onnx(model, x[:1], options=options, target_opset=OPSET)
    path.write_bytes(onx.SerializeToString())


def reference(path, probe):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: probe})
    return {
        "input": sess.get_inputs()[0].name,
        "inputs": probe.tolist(),
        "outputs": {o.name: v.tolist() for o, v in zip(sess.get_outputs(), outs)},
    }


def boosters(x, y):
    """xgboost and lightgbm through onnxmltools, when installed."""
    out = {}
    try:
        import lightgbm
        import onnxmltools
        import xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError as e:  # the fixtures then lack them: say so
        print(f"skipping xgboost/lightgbm: {e}")
        return out
    typ = [("input", FloatTensorType([None, x.shape[1]]))]
    xgb = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(x, y)
    out["xgboost"] = onnxmltools.convert_xgboost(xgb, initial_types=typ, target_opset=15)
    lgb = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=8, random_state=0, verbose=-1).fit(x, y)
    out["lightgbm"] = onnxmltools.convert_lightgbm(lgb, initial_types=typ, target_opset=15,
                                                   zipmap=False)
    return out


def adult_reference():
    """scikit-learn's and Fairlearn's values for the worked example
    (adult-gb.onnx on datasets/adult-test.csv.gz, predictions by
    onnxruntime), for an end-to-end test."""
    import fairlearn.metrics as fm
    from sklearn import metrics as m

    with gzip.open(ROOT / "datasets/adult-test.csv.gz", "rt") as f:
        df = pd.read_csv(f)
    x = df[FEATURES].to_numpy(dtype=np.float32)
    y = (df["income"] == ">50K").to_numpy(dtype=np.int64)
    sess = ort.InferenceSession(str(EXAMPLE / "adult-gb.onnx"), providers=["CPUExecutionProvider"])
    label, proba = sess.run(None, {sess.get_inputs()[0].name: x})
    proba = proba.astype(np.float64)
    sf = df[["sex", "race"]]
    kw = {"y_true": y, "y_pred": label, "sensitive_features": sf}
    return {
        "rows": int(len(y)),
        "metrics": {
            "accuracy": m.accuracy_score(y, label),
            "balanced_accuracy": m.balanced_accuracy_score(y, label),
            "f1_macro": m.f1_score(y, label, average="macro"),
            "precision_weighted": m.precision_score(y, label, average="weighted"),
            "roc_auc": m.roc_auc_score(y, proba[:, 1]),
            "average_precision": m.average_precision_score(y, proba[:, 1]),
            "log_loss": m.log_loss(y, proba),
            "brier_score": m.brier_score_loss(y, proba[:, 1]),
        },
        "fairness_sex_race": {
            "demographic_parity_difference": fm.demographic_parity_difference(**kw),
            "demographic_parity_ratio": fm.demographic_parity_ratio(**kw),
            "equalized_odds_difference": fm.equalized_odds_difference(**kw),
            "equalized_odds_difference_mean": fm.equalized_odds_difference(**kw, agg="mean"),
            "equalized_odds_ratio": fm.equalized_odds_ratio(**kw),
            "equalized_odds_ratio_mean": fm.equalized_odds_ratio(**kw, agg="mean"),
            "equal_opportunity_difference": fm.equal_opportunity_difference(**kw),
            "equal_opportunity_ratio": fm.equal_opportunity_ratio(**kw),
            "groups": int(fm.MetricFrame(metrics=fm.selection_rate, **kw).by_group.shape[0]),
        },
    }


def cnn(flatten=True):
    """A small CNN on 28x28 inputs (conv 3x3 x4, relu, max pool, flatten,
    dense to 10 classes, softmax), the layers torch.onnx emits for such a network,
    built with onnx.helper and seeded weights: torch's wheels are too
    large for this machine's disk budget."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = rng.normal(scale=0.3, size=(4, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(scale=0.1, size=(4,)).astype(np.float32)
    w2 = rng.normal(scale=0.1, size=(4 * 13 * 13, 10)).astype(np.float32)
    b2 = rng.normal(scale=0.1, size=(10,)).astype(np.float32)
    shape = np.array([-1, 4 * 13 * 13], dtype=np.int64)
    inits = [numpy_helper.from_array(v, n) for v, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (shape, "shape")]]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["flat"], axis=1) if flatten
        else helper.make_node("Reshape", ["p1", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w2"], ["mm"]),
        helper.make_node("Add", ["mm", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    return model


def main():
    EXAMPLE.mkdir(parents=True, exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    x, y = adult("adult.csv.gz")
    gb = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0).fit(x, y)
    export(gb, x, EXAMPLE / "adult-gb.onnx")
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(x, y)
    export(stump, x, EXAMPLE / "adult-stump.onnx")

    # Fixtures: small models, a fixed probe of test rows.
    xt, _ = adult("adult-test.csv.gz")
    probe = xt[:64]
    scale = x.std(axis=0)
    models = {
        "logreg": LogisticRegression(max_iter=2000).fit(x / scale, y),
        "forest": RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(x, y),
        "gboost": GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(x, y),
        "mlp": MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(x / scale, y),
        "gbreg": GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0).fit(
            x[:, [0, 2, 3, 4]], x[:, 1]),
        "rfreg": RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(
            x[:, [0, 2, 3, 4]], x[:, 1]),
    }
    expected = {}
    for name, model in models.items():
        path = FIXTURES / f"{name}.onnx"
        regressor = name in ("gbreg", "rfreg")
        cols = probe[:, [0, 2, 3, 4]] if regressor else probe
        export(model, x[:, [0, 2, 3, 4]] if regressor else x, path)
        expected[name] = reference(path, cols)
    images = np.random.default_rng(1).random((3, 1, 28, 28), dtype=np.float32)
    path = FIXTURES / "cnn.onnx"
    path.write_bytes(cnn().SerializeToString())
    expected["cnn"] = reference(path, images)
    # The same network flattened by Reshape(-1), as x.view(n, -1) in torch.
    path = FIXTURES / "cnn_reshape.onnx"
    path.write_bytes(cnn(flatten=False).SerializeToString())
    expected["cnn_reshape"] = reference(path, images)
    # A model that lies about its input: declared 4 features, weights for
    # 5. tract asserts on it while running; that must be an error, not a
    # crash (tests/models.rs).
    lying = to_onnx(models["logreg"], x[:1, :4], options={"zipmap": False}, target_opset=OPSET)
    (FIXTURES / "inconsistent.onnx").write_bytes(lying.SerializeToString())
    for name, onx in boosters(x, y).items():
        path = FIXTURES / f"{name}.onnx"
        path.write_bytes(onx.SerializeToString())
        expected[name] = reference(path, probe)
    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    (FIXTURES / "adult_reference.json").write_text(json.dumps(adult_reference(), indent=1) + "\n")
    for p in sorted(list(EXAMPLE.glob("*.onnx")) + list(FIXTURES.glob("*.onnx"))):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
