"""rampart eval's attacks beside IBM ART's, on the same ONNX models, the
same 1,000 inputs and the same query budget.

Models (trained here, real data shipped with scikit-learn and Rampart):
- digits: an MLP (scikit-learn) on the 8x8 handwritten digits of
  sklearn.datasets.load_digits, pixels scaled to [0, 1], exported with
  skl2onnx behind a Reshape so that it takes 1x8x8 images (ART's SimBA
  and Square attack only images);
- adult: the README's gradient-boosting model on five numeric columns of
  Adult (examples/eval/adult-gb.onnx), HopSkipJump only.

ART runs on a BlackBoxClassifier(NeuralNetwork) that wraps onnxruntime and counts every
row it is asked about. Rampart gets, per input, the budget ART used on
average (HopSkipJump; ART has no query budget, only iterations), or
ART's own maximum (SimBA: 2 per iteration + 1; Square: 1 per iteration
+ 1). Success is the share of the inputs whose class changed; the
perturbation is measured in the input's units over successful inputs.

Prints a table and exits non-zero when Rampart's success rate is below
ART's or its median perturbation above ART's. `--bench` prints the
timings too (bench/attacks.sh records them).
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, TensorProto

ROOT = Path(__file__).resolve().parent.parent
RAMPART = os.environ.get("RAMPART", str(ROOT / "target/release/rampart"))
N = int(os.environ.get("ATTACK_INPUTS", "1000"))


def digits_model(tmp):
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from skl2onnx import to_onnx

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=0).fit(x, y)
    flat = to_onnx(mlp, x[:1], options={id(mlp): {"zipmap": False}}, target_opset=15)
    # Put a Reshape from 1x8x8 images in front of the flat input.
    g = flat.graph
    old = g.input[0].name
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, 8, 8])
    shape = helper.make_tensor("flat_shape", TensorProto.INT64, [2], [-1, 64])
    reshape = helper.make_node("Reshape", ["image", "flat_shape"], [old], name="to_flat")
    del g.input[:]
    g.input.extend([image])
    g.initializer.extend([shape])
    g.node.insert(0, reshape)
    onnx.checker.check_model(flat)
    path = tmp / "digits.onnx"
    onnx.save(flat, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label = sess.run(None, {"image": x.reshape(-1, 1, 8, 8)})[0]
    right = np.flatnonzero(label == y)[:N]
    xs, ys = x[right], y[right]
    csv = tmp / "digits.csv"
    with open(csv, "w") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["digit"]) + "\n")
        for row, t in zip(xs, ys):
            f.write(",".join(repr(float(v)) for v in row) + f",{t}\n")
    return path, csv, xs.reshape(-1, 1, 8, 8), ys, 10


ADULT_FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def adult_model(tmp):
    path = ROOT / "examples/eval/adult-gb.onnx"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = []
    with gzip.open(ROOT / "datasets/adult-test.csv.gz", "rt") as f:
        header = f.readline().strip().split(",")
        idx = [header.index(c) for c in ADULT_FEATURES]
        lab = header.index("income")
        for line in f:
            cells = line.strip().split(",")
            rows.append(([float(cells[i]) for i in idx], 1 if cells[lab].strip() == ">50K" else 0))
    x = np.array([r[0] for r in rows], dtype=np.float32)
    y = np.array([r[1] for r in rows], dtype=np.int64)
    name = sess.get_inputs()[0].name
    label = sess.run(None, {name: x})[0]
    right = np.flatnonzero(label == y)[:N]
    xs, ys = x[right], y[right]
    csv = tmp / "adult.csv"
    with open(csv, "w") as f:
        f.write(",".join(ADULT_FEATURES + ["income"]) + "\n")
        for row, t in zip(xs, ys):
            f.write(",".join(str(int(v)) for v in row) + f",{t}\n")
    return path, csv, xs, ys, 2, (x.min(axis=0), x.max(axis=0))


class Counted:
    """onnxruntime behind ART's predict_fn, counting rows asked about."""

    def __init__(self, path, shape):
        self.sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.name = self.sess.get_inputs()[0].name
        self.shape = shape
        self.rows = 0

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32).reshape((-1,) + self.shape)
        self.rows += x.shape[0]
        out = self.sess.run(None, {self.name: x})
        return out[1].astype(np.float32)


def art_attack(kind, path, xs, ys, classes, shape, clip, budget):
    from art.estimators.classification.blackbox import BlackBoxClassifierNeuralNetwork
    from art.attacks.evasion import HopSkipJump, SimBA, SquareAttack

    counted = Counted(path, shape)
    # The neural-network flavour of ART's BlackBoxClassifier: SimBA and
    # Square refuse the plain one; HopSkipJump takes either.
    clf = BlackBoxClassifierNeuralNetwork(counted, shape, classes, clip_values=clip)
    advs, queries = [], []
    start = time.time()
    for i in range(len(xs)):
        if kind == "hopskipjump":
            atk = HopSkipJump(clf, norm=2, max_iter=budget["max_iter"], max_eval=1000,
                              init_eval=100, init_size=100, verbose=False)
        elif kind == "simba":
            atk = SimBA(clf, attack="px", max_iter=budget["max_iter"], epsilon=0.2, verbose=False)
        else:
            atk = SquareAttack(clf, norm=np.inf, max_iter=budget["max_iter"], eps=0.1,
                               p_init=0.8, nb_restarts=1, verbose=False)
        before = counted.rows
        np.random.seed(i)
        x = xs[i:i + 1]
        a = atk.generate(x, y=np.eye(classes)[ys[i:i + 1]])
        advs.append(a[0])
        queries.append(counted.rows - before)
    took = time.time() - start
    advs = np.array(advs, dtype=np.float32)
    pred = counted(advs).argmax(axis=1)
    return advs, pred, np.array(queries), took


def summary(xs, advs, pred, ys):
    ok = pred != ys
    d = (advs - xs).reshape(len(xs), -1)
    l2 = np.linalg.norm(d, axis=1)[ok]
    linf = np.abs(d).max(axis=1)[ok]
    return {
        "success_rate": float(ok.mean()),
        "median_l2": float(np.median(l2)) if ok.any() else None,
        "median_linf": float(np.median(linf)) if ok.any() else None,
    }


def rampart(model, csv, label, attack, queries, extra, features=None):
    cmd = [RAMPART, "eval", str(model), "--data", str(csv), "--label", label,
           "--bootstrap", "0", "--attack", attack, "--queries", str(queries),
           "--attack-rows", str(N), "--json"] + extra
    if features:
        cmd += ["--features", ",".join(features)]
    start = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True)
    took = time.time() - start
    if out.returncode not in (0, 1):
        sys.exit(f"rampart failed: {' '.join(cmd)}\n{out.stderr}")
    report = json.loads(out.stdout)
    r = report["robustness"][0]
    return {
        "success_rate": r["success_rate"],
        "median_l2": r["l2"]["median"],
        "median_linf": r["linf"]["median"],
        "attacked": r["attacked"],
        "queries_median": r["queries"]["median"],
    }, took


def main():
    bench = "--bench" in sys.argv
    failures = []
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        model, csv, xs, ys, k = digits_model(tmp)
        cases = [
            ("hopskipjump", {"max_iter": 10}, "median_l2"),
            ("simba", {"max_iter": 500}, "median_l2"),
            ("square", {"max_iter": 500}, "median_linf"),
        ]
        for kind, budget, measure in cases:
            advs, pred, q, art_time = art_attack(kind, model, xs, ys, k, (1, 8, 8), (0.0, 1.0), budget)
            art = summary(xs, advs, pred, ys)
            if kind == "hopskipjump":
                ours_budget = int(np.ceil(q.mean()))
                extra = ["--bounds", "0,1"]
            elif kind == "simba":
                ours_budget = 2 * budget["max_iter"] + 1
                extra = ["--bounds", "0,1", "--epsilon", "0.2"]
            else:
                ours_budget = budget["max_iter"] + 1
                extra = ["--bounds", "0,1", "--epsilon", "0.1"]
            ours, our_time = rampart(model, csv, "digit", kind, ours_budget, extra)
            rows.append(("digits MLP", kind, len(xs), ours_budget, art, ours, measure, art_time, our_time))
        model, csv, xs, ys, k, (lo, hi) = adult_model(tmp)
        advs, pred, q, art_time = art_attack("hopskipjump", model, xs, ys, k, (5,), (lo, hi), {"max_iter": 10})
        art = summary(xs, advs, pred, ys)
        ours_budget = int(np.ceil(q.mean()))
        ours, our_time = rampart(model, csv, "income", "hopskipjump", ours_budget, [], ADULT_FEATURES)
        rows.append(("Adult gradient boosting", "hopskipjump", len(xs), ours_budget, art, ours, "median_l2", art_time, our_time))
    print(f"{'model':<24} {'attack':<12} {'inputs':>6} {'budget':>6}  {'ART rate':>8} {'ours':>6}  {'ART median':>10} {'ours':>10}" + ("  ART s   ours s  ratio" if bench else ""))
    for name, kind, n, budget, art, ours, measure, art_time, our_time in rows:
        line = (f"{name:<24} {kind:<12} {n:>6} {budget:>6}  {art['success_rate']:>8.3f} {ours['success_rate']:>6.3f}"
                f"  {art[measure] or float('nan'):>10.4f} {ours[measure] or float('nan'):>10.4f} ({measure[7:]})")
        if bench:
            line += f"  {art_time:6.1f} {our_time:7.2f} {art_time / our_time:6.1f}x"
        print(line)
        if ours["success_rate"] < art["success_rate"]:
            failures.append(f"{name} {kind}: success {ours['success_rate']:.3f} < ART's {art['success_rate']:.3f}")
        if art[measure] is not None and (ours[measure] is None or ours[measure] > art[measure]):
            failures.append(f"{name} {kind}: {measure} {ours[measure]} > ART's {art[measure]:.4f}")
    if failures:
        print("\n".join(["FAILED:"] + failures))
        sys.exit(1)
    print("rampart's attacks succeed at least as often as ART's, with no larger median perturbation")


if __name__ == "__main__":
    main()
