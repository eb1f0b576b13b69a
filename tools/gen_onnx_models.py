"""Makes the gateway's ONNX fixtures with the real exporters, and records
onnxruntime's outputs on fixed inputs so that the tests can check the
in-process (tract) path against the reference runtime.

    python3 -m venv /tmp/onnx-venv
    /tmp/onnx-venv/bin/pip install -r tools/requirements-onnx.txt
    /tmp/onnx-venv/bin/python tools/gen_onnx_models.py

Writes crates/rampart-gateway/tests/fixtures/{iris_logreg,iris_forest,iris_tree}.onnx
and expected.json (inputs and onnxruntime's outputs per model).
"""

import json
import pathlib

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/rampart-gateway/tests/fixtures"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    models = {
        "iris_logreg": LogisticRegression(max_iter=500).fit(x, y),
        "iris_forest": RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y),
        "iris_tree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y),
    }
    probe = x[::15][:10]
    expected = {}
    for name, model in models.items():
        onx = to_onnx(model, x[:1], options={"zipmap": False}, target_opset={"": 15, "ai.onnx.ml": 3})
        path = OUT / f"{name}.onnx"
        path.write_bytes(onx.SerializeToString())
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outs = sess.run(None, {sess.get_inputs()[0].name: probe})
        expected[name] = {
            "input": sess.get_inputs()[0].name,
            "inputs": probe.tolist(),
            "outputs": {o.name: v.tolist() for o, v in zip(sess.get_outputs(), outs)},
        }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
