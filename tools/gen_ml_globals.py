#!/usr/bin/env python3
"""Records every global that pickles of real ML objects import.

Fits every estimator scikit-learn's `all_estimators()` lists (those that
construct with default arguments and fit on a small dataset), xgboost,
lightgbm and catboost models, pandas objects of every common dtype,
scipy sparse matrices and splines, numpy arrays, generators and masked
arrays, torch state dicts (common layers and dtypes), optimizer,
scheduler, AMP-scaler and RNG states, modules and checkpoints saved with
torch.save (zip and legacy formats), and Hugging Face objects that are
pickled in practice: TrainingArguments (training_args.bin), configs, fast
tokenizers and their encodings, BERT state dicts. Each object is pickled with protocols 2 to 5 and with joblib,
and loaded back through an unpickler that records each `find_class`.

The output, `crates/rampart-scan/data/ml-globals.txt`, is committed with
the library versions it came from: the scanner's generated allowlist is
what these libraries really import, never a whole-package wildcard.
Globals the scanner denies (gadgets such as `numpy._core._ufunc_reconstruct`)
are still written down; the scanner's deny list wins over this list.

Usage (in a throwaway venv):
    pip install -r tools/requirements-ml-globals.txt
    python tools/gen_ml_globals.py [--corpus DIR]

`--corpus DIR` also writes each pickle (and joblib file) to DIR: the
real-benign corpus the scanner benchmark reads (bench/scan_benign.sh).
"""

import argparse
import collections
import importlib
import io
import os
import pickle
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

SEEN = collections.Counter()
VERSIONS = {}
FAILED = []


class Recorder(pickle.Unpickler):
    def find_class(self, module, name):
        SEEN[f"{module}.{name}"] += 1
        return super().find_class(module, name)


def record_joblib():
    """Makes joblib's unpickler record its globals too."""
    import joblib.numpy_pickle as jnp

    original = jnp.NumpyUnpickler.find_class

    def find_class(self, module, name):
        SEEN[f"{module}.{name}"] += 1
        return original(self, module, name)

    jnp.NumpyUnpickler.find_class = find_class


def version(module):
    try:
        m = importlib.import_module(module)
        VERSIONS[module] = getattr(m, "__version__", "?")
        return m
    except Exception:
        return None


def dump(name, obj, corpus):
    """Pickles `obj` every way users do, and loads each back recorded."""
    import joblib

    for protocol in (2, 3, 4, 5):
        try:
            data = pickle.dumps(obj, protocol=protocol)
        except Exception as e:
            FAILED.append(f"{name} protocol {protocol}: {type(e).__name__}")
            continue
        Recorder(io.BytesIO(data)).load()
        if corpus:
            with open(os.path.join(corpus, f"{name}.p{protocol}.pkl"), "wb") as f:
                f.write(data)
    for compress in (0, "zlib", "gzip", "bz2", "lzma", "xz"):
        suffix = "joblib" if compress == 0 else f"joblib.{compress}"
        path = os.path.join(corpus or "/tmp", f"{name}.{suffix}")
        try:
            joblib.dump(obj, path, compress=compress if compress == 0 else (compress, 3))
            joblib.load(path)
        except Exception as e:
            FAILED.append(f"{name} joblib {compress}: {type(e).__name__}")
        if not corpus and os.path.exists(path):
            os.remove(path)


def sklearn_objects():
    sklearn = version("sklearn")
    if sklearn is None:
        return
    from sklearn.datasets import make_classification, make_regression
    from sklearn.utils import all_estimators

    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    Xc, yc = make_classification(n_samples=60, n_features=6, n_informative=4, random_state=0)
    Xc = np.abs(Xc)  # some estimators need non-negative input
    Xr, yr = make_regression(n_samples=60, n_features=6, random_state=0)
    yr = np.abs(yr) + 1  # Gamma and Poisson regressors need positive targets
    texts = [f"word{i % 7} word{i % 5} text" for i in range(60)]
    datasets = (
        (Xc, yc), (Xr, yr), (Xc, None), (texts, yc), (texts, None),
        (yc, None), (Xr, np.c_[yr, yr]), ([{"a": i, "b": i % 3} for i in range(60)], None),
    )
    # Meta-estimators take an estimator (or several) to wrap.
    arguments = (
        {},
        {"n_components": 2},
        {"estimator": LogisticRegression()},
        {"estimator": LogisticRegression(), "param_grid": {"C": [1, 2]}},
        {"estimator": LogisticRegression(), "param_distributions": {"C": [1, 2]}, "n_iter": 2},
        {"estimator": LogisticRegression(), "threshold": 0.5},
        {"estimators": [("lr", LogisticRegression()), ("dt", DecisionTreeClassifier())]},
        {"estimators": [("r", Ridge()), ("r2", Ridge(alpha=2))]},
        {"steps": [("s", StandardScaler()), ("m", LogisticRegression())]},
        {"transformer_list": [("s", StandardScaler())]},
        {"transformers": [("s", StandardScaler(), [0, 1])]},
        {"base_estimator": LogisticRegression()},
        {"dictionary": np.eye(6)[:3]},
        {"estimator": Ridge()},
    )
    for name, cls in all_estimators():
        fitted = None
        for kwargs in arguments:
            try:
                est = cls(**kwargs)
            except Exception:
                continue
            for X, y in datasets:
                try:
                    fitted = est.fit(X) if y is None else est.fit(X, y)
                    break
                except Exception:
                    continue
            if fitted is not None:
                break
        if fitted is None:
            FAILED.append(f"sklearn {name}: no construction fits a small dataset")
            continue
        dump(f"sklearn_{name}", fitted, CORPUS)
    # Objects whose parameters reference functions and helpers.
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.linear_model import LogisticRegression

    dump("sklearn_selectkbest", SelectKBest(f_classif, k=3).fit(Xc, yc), CORPUS)
    dump("sklearn_pipeline", make_pipeline(StandardScaler(), LogisticRegression()).fit(Xc, yc), CORPUS)
    dump("sklearn_function_transformer_mean", FunctionTransformer(np.mean).fit(Xc), CORPUS)
    # Functions users pass as parameters: every score function of
    # feature_selection, every named scorer (GridSearchCV(scoring=...)),
    # make_scorer of a metric, and the numpy functions FunctionTransformer
    # is given in practice.
    from sklearn import feature_selection as fs
    from sklearn.metrics import fbeta_score, get_scorer, get_scorer_names, make_scorer
    from sklearn.model_selection import GridSearchCV

    for f in (fs.chi2, fs.f_classif, fs.f_regression, fs.mutual_info_classif, fs.mutual_info_regression,
              fs.r_regression):
        X, y = (Xc, yc) if f in (fs.chi2, fs.f_classif, fs.mutual_info_classif) else (Xr, yr)
        dump(f"sklearn_selectkbest_{f.__name__}", SelectKBest(f, k=3).fit(X, y), CORPUS)
    for name in get_scorer_names():
        dump(f"sklearn_scorer_{name}", get_scorer(name), CORPUS)
    dump("sklearn_make_scorer_fbeta", make_scorer(fbeta_score, beta=2), CORPUS)
    dump("sklearn_gridsearch_f1", GridSearchCV(LogisticRegression(), {"C": [1, 2]}, scoring="f1", cv=2).fit(Xc, yc),
         CORPUS)
    funcs = ("log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "cbrt", "square", "abs", "absolute", "sign",
             "clip", "round", "floor", "ceil", "tanh", "arcsinh", "mean", "median", "sum", "std", "var", "min", "max",
             "nan_to_num")
    dump("sklearn_function_transformer_numpy", [FunctionTransformer(getattr(np, f)) for f in funcs], CORPUS)
    # Cross-validation splitters (GridSearchCV(cv=KFold(...))) and column
    # selectors, as users pass them.
    from sklearn import model_selection as ms
    from sklearn.compose import ColumnTransformer, make_column_selector

    splitters = [ms.KFold(3), ms.StratifiedKFold(3), ms.GroupKFold(3), ms.ShuffleSplit(3), ms.StratifiedShuffleSplit(3),
                 ms.TimeSeriesSplit(3), ms.RepeatedKFold(), ms.RepeatedStratifiedKFold(), ms.LeaveOneOut(),
                 ms.LeavePOut(2), ms.GroupShuffleSplit(), ms.LeaveOneGroupOut(), ms.PredefinedSplit([0, 1, 0, 1])]
    dump("sklearn_cv_splitters", splitters, CORPUS)
    dump("sklearn_gridsearch_kfold", GridSearchCV(LogisticRegression(), {"C": [1, 2]}, cv=ms.KFold(2)).fit(Xc, yc),
         CORPUS)
    dump("sklearn_column_selector", ColumnTransformer([("s", StandardScaler(), make_column_selector(
        dtype_include=np.number))]), CORPUS)
    # Tree-based neighbour searches, built directly and by the estimators.
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors

    dump("sklearn_ball_tree", BallTree(Xc), CORPUS)
    dump("sklearn_kd_tree", KDTree(Xc), CORPUS)
    for algorithm in ("ball_tree", "kd_tree", "brute"):
        dump(f"sklearn_nearest_neighbors_{algorithm}", NearestNeighbors(algorithm=algorithm).fit(Xc), CORPUS)
        dump(f"sklearn_kneighbors_classifier_{algorithm}", KNeighborsClassifier(algorithm=algorithm).fit(Xc, yc), CORPUS)
        dump(f"sklearn_kneighbors_regressor_{algorithm}", KNeighborsRegressor(algorithm=algorithm).fit(Xr, yr), CORPUS)


def boosting_objects():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    xgb = version("xgboost")
    if xgb is not None:
        dump("xgboost_classifier", xgb.XGBClassifier(n_estimators=3).fit(X, y), CORPUS)
        dump("xgboost_regressor", xgb.XGBRegressor(n_estimators=3).fit(X, y), CORPUS)
        dump("xgboost_booster", xgb.train({}, xgb.DMatrix(X, y), 2), CORPUS)
    lgb = version("lightgbm")
    if lgb is not None:
        dump("lightgbm_classifier", lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y), CORPUS)
        dump("lightgbm_regressor", lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(X, y), CORPUS)
        dump("lightgbm_booster", lgb.train({"verbose": -1}, lgb.Dataset(X, y), 2), CORPUS)
    cb = version("catboost")
    if cb is not None:
        dump("catboost_classifier", cb.CatBoostClassifier(iterations=3, verbose=0, allow_writing_files=False).fit(X, y), CORPUS)
        dump("catboost_regressor", cb.CatBoostRegressor(iterations=3, verbose=0, allow_writing_files=False).fit(X, y), CORPUS)


def pandas_objects():
    pd = version("pandas")
    if pd is None:
        return
    version("pyarrow")  # pandas 3 keeps strings in Arrow arrays
    df = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [0.5, 1.5, np.nan],
            "s": ["a", "b", "c"],
            "b": [True, False, True],
            "c": pd.Categorical(["x", "y", "x"]),
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "tz": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).tz_localize("UTC"),
            "td": pd.to_timedelta([1, 2, 3], unit="D"),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "str": pd.array(["a", None, "c"], dtype="string"),
            "p": pd.period_range("2024-01", periods=3, freq="M"),
            "iv": pd.interval_range(0, 3),
        }
    )
    dump("pandas_dataframe", df, CORPUS)
    dump("pandas_series", df["f"], CORPUS)
    dump("pandas_multiindex", df.set_index(["s", "i"]), CORPUS)
    dump("pandas_range_index", pd.RangeIndex(5), CORPUS)
    dump("pandas_datetime_index", pd.date_range("2024-01-01", periods=3), CORPUS)
    dump("pandas_sparse", pd.arrays.SparseArray([0, 0, 1]), CORPUS)


def scipy_objects():
    scipy = version("scipy")
    if scipy is None:
        return
    from scipy import interpolate, sparse, stats

    m = sparse.random(5, 5, density=0.3, random_state=0)
    for kind in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        dump(f"scipy_sparse_{kind}_matrix", m.asformat(kind), CORPUS)
    dump("scipy_sparse_csr_array", sparse.csr_array(m), CORPUS)
    x = np.linspace(0, 1, 10)
    dump("scipy_bspline", interpolate.make_interp_spline(x, x**2), CORPUS)
    dump("scipy_interp1d", interpolate.interp1d(x, x**2), CORPUS)
    for kind in ("nearest", "nearest-up", "zero", "slinear", "quadratic", "cubic", "previous", "next"):
        dump(f"scipy_interp1d_{kind}", interpolate.interp1d(x, x**2, kind=kind), CORPUS)
    dump("scipy_rbf_interpolator", interpolate.RBFInterpolator(x[:, None], x**2), CORPUS)
    dump("scipy_frozen_norm", stats.norm(0, 1), CORPUS)
    from scipy import spatial

    pts = np.random.default_rng(0).random((20, 3))
    dump("scipy_ckdtree", spatial.cKDTree(pts), CORPUS)
    dump("scipy_kdtree", spatial.KDTree(pts), CORPUS)
    dump("scipy_cubic_spline", interpolate.CubicSpline(x, x**2), CORPUS)
    dump("scipy_univariate_spline", interpolate.UnivariateSpline(x, x**2), CORPUS)
    dump("scipy_lsq_univariate_spline", interpolate.LSQUnivariateSpline(x, x**2, [0.5]), CORPUS)
    dump("scipy_pchip", interpolate.PchipInterpolator(x, x**2), CORPUS)
    dump("scipy_akima", interpolate.Akima1DInterpolator(x, x**2), CORPUS)
    dump("scipy_regular_grid", interpolate.RegularGridInterpolator((x, x), np.outer(x, x)), CORPUS)


def numpy_objects():
    version("numpy")
    dump("numpy_array", np.arange(12.0).reshape(3, 4), CORPUS)
    dump("numpy_structured", np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]), CORPUS)
    dump("numpy_datetime", np.array(["2024-01-01"], dtype="datetime64[D]"), CORPUS)
    dump("numpy_masked", np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), CORPUS)
    dump("numpy_random_state", np.random.RandomState(0), CORPUS)
    dump("numpy_generator", np.random.default_rng(0), CORPUS)
    dump("numpy_seed_sequence", np.random.SeedSequence(0), CORPUS)
    dump("numpy_scalars", [np.float32(1), np.int64(2), np.bool_(True)], CORPUS)
    dump("numpy_recarray", np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), CORPUS)


class RecordingPickle:
    """A pickle module for torch.load whose unpickler records each global:
    torch.load runs it as it runs pickle, persistent ids and all."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            SEEN[f"{module}.{name}"] += 1
            return super().find_class(module, name)

    load = staticmethod(pickle.load)
    loads = staticmethod(pickle.loads)
    __name__ = "pickle"


def torch_save(name, obj, legacy=False):
    """Saves `obj` as torch.save does (the zip format, or the legacy one)
    and loads it back through the recording unpickler."""
    import torch

    buf = io.BytesIO()
    try:
        torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
        buf.seek(0)
        torch.load(buf, pickle_module=RecordingPickle, weights_only=False)
    except Exception as e:
        FAILED.append(f"{name} torch.save{' legacy' if legacy else ''}: {type(e).__name__}: {e}")
        return
    if CORPUS:
        suffix = "legacy.pt" if legacy else "pt"
        with open(os.path.join(CORPUS, f"{name}.{suffix}"), "wb") as f:
            f.write(buf.getvalue())


def torch_objects():
    """What training code saves with torch.save: state dicts of common
    layers and dtypes, optimizer and scheduler states, AMP scaler state,
    whole modules, checkpoints that bundle them, RNG states."""
    torch = version("torch")
    if torch is None:
        return
    import random

    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4), nn.LayerNorm(4),
        nn.Dropout(0.1),
    )
    seq = nn.ModuleDict({"emb": nn.Embedding(10, 4), "lstm": nn.LSTM(4, 4), "gru": nn.GRU(4, 4),
                         "attn": nn.MultiheadAttention(4, 2),
                         "enc": nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)})
    net(torch.randn(2, 1, 4, 4)).sum().backward()
    optimizers = {
        "adam": torch.optim.Adam(net.parameters()),
        "adamw": torch.optim.AdamW(net.parameters(), lr=1e-3),
        "sgd": torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
    }
    for opt in optimizers.values():
        opt.step()
    sgd = optimizers["sgd"]
    schedulers = {
        "step_lr": torch.optim.lr_scheduler.StepLR(sgd, 1),
        "one_cycle": torch.optim.lr_scheduler.OneCycleLR(sgd, max_lr=0.1, total_steps=10),
        "cosine": torch.optim.lr_scheduler.CosineAnnealingLR(sgd, 10),
    }
    tensors = {
        "f16": torch.ones(2, dtype=torch.float16), "bf16": torch.ones(2, dtype=torch.bfloat16),
        "i64": torch.arange(3), "bool": torch.tensor([True]), "u8": torch.zeros(2, dtype=torch.uint8),
        "sparse": torch.eye(3).to_sparse(), "size": torch.Size([2, 3]), "device": torch.device("cpu"),
        "dtype": torch.float32,
    }
    objects = [
        ("torch_state_dict", net.state_dict()),
        ("torch_recurrent_state_dict", seq.state_dict()),
        ("torch_tensors", tensors),
        ("torch_module", net),
        ("torch_module_dict", seq),
        ("torch_grad_scaler", torch.amp.GradScaler("cpu").state_dict()),
        ("torch_rng_state", {"python": random.getstate(), "numpy": np.random.get_state(),
                             "cpu": torch.get_rng_state()}),
        ("torch_checkpoint", {"epoch": 3, "model": net.state_dict(), "optimizer": sgd.state_dict(),
                              "scheduler": schedulers["step_lr"].state_dict(), "loss": 0.5}),
    ]
    objects += [(f"torch_optimizer_{k}", o.state_dict()) for k, o in optimizers.items()]
    objects += [(f"torch_scheduler_{k}", sch.state_dict()) for k, sch in schedulers.items()]
    for name, obj in objects:
        torch_save(name, obj)
    torch_save("torch_state_dict", net.state_dict(), legacy=True)


def transformers_objects():
    """What Hugging Face's Trainer and tokenizers write as pickles:
    training_args.bin (TrainingArguments through torch.save), configs,
    fast and slow tokenizers, built here without downloading anything."""
    transformers = version("transformers")
    tokenizers = version("tokenizers")
    if transformers is None or tokenizers is None or "torch" not in VERSIONS:
        return
    from tokenizers import Tokenizer, models, pre_tokenizers

    args = transformers.TrainingArguments(output_dir="/tmp/rampart-ml-globals-out", report_to=[])
    torch_save("hf_training_args", args)
    config = transformers.BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=8, vocab_size=16)
    torch_save("hf_bert_config", config)
    dump("hf_bert_config", config, CORPUS)
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    dump("hf_fast_tokenizer", fast, CORPUS)
    dump("hf_batch_encoding", fast(["hello world"], padding=True), CORPUS)
    model = transformers.BertModel(config)
    torch_save("hf_bert_state_dict", model.state_dict())


CORPUS = None


def main():
    global CORPUS
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "crates", "rampart-scan", "data", "ml-globals.txt"))
    args = ap.parse_args()
    CORPUS = args.corpus
    if CORPUS:
        os.makedirs(CORPUS, exist_ok=True)
    version("joblib")
    record_joblib()
    for part in (sklearn_objects, boosting_objects, pandas_objects, scipy_objects, numpy_objects, torch_objects,
                 transformers_objects):
        part()
    with open(args.out, "w") as f:
        f.write("# Globals that pickles of real ML objects import, recorded by\n")
        f.write("# tools/gen_ml_globals.py (do not edit by hand). Versions:\n")
        for k in sorted(VERSIONS):
            f.write(f"#   {k} {VERSIONS[k]}\n")
        f.write(f"#   python {sys.version.split()[0]}\n")
        for g in sorted(SEEN):
            f.write(g + "\n")
    print(f"{len(SEEN)} globals -> {args.out}", file=sys.stderr)
    print(f"{len(FAILED)} objects left out:", file=sys.stderr)
    for line in FAILED:
        print("  " + line, file=sys.stderr)


if __name__ == "__main__":
    main()
