#!/usr/bin/env python3
"""Generates the non-pickle model-format samples in examples/ (GGUF, Keras,
HDF5, ONNX, TensorFlow, TFLite, TorchScript) and merges their verdicts into
examples/expected.json. gen_examples.py owns every other folder.

Run from the repository root, after gen_examples.py, with a Python that has
tools/requirements-formats.txt:

    python3 -m venv /tmp/gen && /tmp/gen/bin/pip install -r tools/requirements-formats.txt
    /tmp/gen/bin/python tools/gen_model_formats.py

Files are written with the reference libraries (gguf-py, h5py, keras,
onnx, tensorflow) where they can write the technique; a few malformed
headers are written by hand. Payloads only run `echo`; nothing is loaded
(building the Keras Lambda model calls its function once: it echoes).
Files that Keras and TensorFlow write themselves (the HDF5 files of
model.save, the .keras weights, fingerprint.pb, and HDF5 files in the
latest format, whose root group records times) carry save times and
differ from run to run; the rest is reproducible.
"""
import io
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

OUT = "examples"
# Folders (under benign/ and malicious/) this script owns.
OWNED = ("gguf", "keras", "onnx", "tensorflow", "tflite", "torchscript", "templates")
EXPECTED = {}


def put(rel, data, verdict, rules=(), technique=""):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    EXPECTED[rel] = {"verdict": verdict, "rules": list(rules), "technique": technique}


# --- GGUF -------------------------------------------------------------------
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# The proof of concept of CVE-2024-34359 (llama-cpp-python), with `echo`.
SSTI = (
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}"
    "{{x()._module.__builtins__['__import__']('os').popen(\"echo pwned\").read()}}{% endif %}{% endfor %}"
)
OBFUSCATED = (
    "{% set c = '__cla' ~ 'ss__' %}{% set g = ['__', 'glo', 'bals', '__']|join %}"
    "{{ (messages|attr(c)|attr('__ba'+'se__')|attr('_'*2 + 'subclasses' + '_'*2))() }}"
    "{{ cycler|attr('__tini__'|reverse)|attr(g) }}"
)


def gguf_bytes(template=CHATML, endian=None, tensors=True, extra=None):
    import gguf

    kw = {"endianess": endian} if endian is not None else {}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.gguf")
        w = gguf.GGUFWriter(path, "llama", **kw)
        w.add_name("tiny")
        w.add_context_length(128)
        if template is not None:
            w.add_chat_template(template)
        for k, v in (extra or {}).items():
            w.add_string(k, v)
        if tensors:
            dt = np.float32
            w.add_tensor("token_embd.weight", np.arange(64, dtype=dt).reshape(8, 8))
            w.add_tensor("output_norm.weight", np.ones(8, dtype=dt))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        with open(path, "rb") as f:
            return f.read()


def gguf_v1(template):
    """A GGUF v1 header by hand (u32 counts and lengths), as gguf-py no
    longer writes v1."""
    s = lambda t: struct.pack("<I", len(t.encode())) + t.encode()
    kv = s("general.architecture") + struct.pack("<I", 8) + s("llama")
    kv += s("tokenizer.chat_template") + struct.pack("<I", 8) + s(template)
    return b"GGUF" + struct.pack("<III", 1, 0, 2) + kv


def gguf_cases(b, m):
    import gguf

    put(b + "gguf/model.gguf", gguf_bytes(), "clean", technique="GGUF v3 with an ordinary ChatML template and two tensors")
    put(b + "gguf/big_endian.gguf", gguf_bytes(endian=gguf.GGUFEndian.BIG), "clean", technique="big-endian GGUF")
    put(b + "gguf/v1.gguf", gguf_v1(CHATML), "clean", technique="GGUF v1 (32-bit counts)")
    put(m + "gguf/ssti_chat_template.gguf", gguf_bytes(SSTI), "critical", ["TEMPLATE-INJECTION"],
        "chat template climbing to os.popen (CVE-2024-34359)")
    put(m + "gguf/obfuscated_template.gguf", gguf_bytes(OBFUSCATED), "critical", ["TEMPLATE-INJECTION"],
        "dunders spelled by concatenation, repetition, |join, |reverse and {% set %}")
    put(m + "gguf/named_template.gguf", gguf_bytes(CHATML, extra={"tokenizer.chat_template.tool_use": "{{ x|attr(request.args.a) }}"}),
        "high", ["TEMPLATE-DYNAMIC-ATTR"], "second, named chat template with a computed attribute name")
    put(m + "gguf/v1_ssti.gguf", gguf_v1(SSTI), "critical", ["TEMPLATE-INJECTION"], "GGUF v1 with an injected template")
    good = gguf_bytes()
    put(m + "gguf/truncated_data.gguf", good[:-64], "high", ["GGUF-INVALID"], "tensor data runs past the end of the file")
    dims5 = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + struct.pack("<Q", 1) + b"t" + struct.pack("<I", 5) + struct.pack("<5Q", 1, 1, 1, 1, 1) + struct.pack("<IQ", 0, 0)
    put(m + "gguf/five_dims.gguf", dims5, "high", ["GGUF-INVALID"], "tensor with 5 dimensions (ggml allows 4)")
    huge = b"GGUF" + struct.pack("<IQQ", 3, 1 << 40, 0)
    put(m + "gguf/huge_count.gguf", huge, "high", ["GGUF-INVALID"], "tensor count of 2^40 (allocation bomb)")


# --- Hugging Face tokenizer config ----------------------------------------
def template_cases(b, m):
    cfg = {"bos_token": "<s>", "eos_token": "</s>", "chat_template": CHATML}
    put(b + "templates/tokenizer_config.json", json.dumps(cfg, indent=1).encode(), "clean",
        technique="tokenizer_config.json with an ordinary chat template")
    cfg = {"bos_token": "<s>", "chat_template": [{"name": "default", "template": CHATML}, {"name": "rag", "template": SSTI}]}
    put(m + "templates/tokenizer_config.json", json.dumps(cfg, indent=1).encode(), "critical", ["TEMPLATE-INJECTION"],
        "tokenizer_config.json whose named 'rag' template is injected")


# --- Keras ------------------------------------------------------------------
def keras_models():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="hidden"), keras.layers.Dense(2, name="out")], name="dense")
    evil = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Lambda(lambda x: __import__("os").system("echo pwned") or x, name="payload"),
        keras.layers.Dense(2, name="out"),
    ], name="lambda")
    return keras, dense, evil


def saved(model, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m" + suffix)
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def rewrite_keras_config(archive, edit):
    """A .keras archive with its config.json edited (the weights kept)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "config.json":
                cfg = json.loads(data)
                edit(cfg)
                data = json.dumps(cfg).encode()
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = "2024-01-01@00:00:00"
                data = json.dumps(meta).encode()
            info.date_time = (2024, 1, 1, 0, 0, 0)
            z.writestr(info, data)
    return out.getvalue()


def h5_with_config(config, vlen=False, libver="earliest", extra_attrs=0):
    """An HDF5 file with a model_config root attribute, written by h5py."""
    import h5py

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.h5")
        with h5py.File(path, "w", libver=libver, track_order=False) as f:
            for i in range(extra_attrs):
                f.attrs[f"note_{i}"] = f"attribute {i}"
            text = json.dumps({"class_name": "Sequential", "config": config})
            f.attrs["model_config"] = text if vlen else text.encode()
            f.attrs["keras_version"] = "2.15.0"
            f.attrs["backend"] = "tensorflow"
            f.create_dataset("model_weights/out/kernel", data=np.zeros((4, 2), dtype="f4"), track_times=False)
        with open(path, "rb") as f:
            return f.read()


def keras_cases(b, m):
    keras, dense, evil = keras_models()
    good = saved(dense, ".keras")
    put(b + "keras/dense.keras", rewrite_keras_config(good, lambda c: None), "clean", technique="Keras 3 .keras archive, Dense layers only")
    put(b + "keras/dense.h5", saved(dense, ".h5"), "clean", technique="legacy HDF5 .h5 written by Keras (fixed-length model_config)")
    put(b + "keras/model.json", dense.to_json(indent=1).encode(), "clean", technique="model.to_json() config")
    layers = json.loads(dense.to_json())["config"]["layers"]
    put(b + "keras/latest_format.h5", h5_with_config({"name": "s", "layers": layers}, vlen=True, libver="latest"), "clean",
        technique="HDF5 superblock v3 / object header v2, model_config as a variable-length string")

    put(m + "keras/lambda.keras", rewrite_keras_config(saved(evil, ".keras"), lambda c: None), "critical", ["KERAS-LAMBDA"],
        "Lambda layer with marshalled bytecode calling os.system (CVE-2024-3660)")
    put(m + "keras/lambda.h5", saved(evil, ".h5"), "critical", ["KERAS-LAMBDA"],
        "legacy HDF5 Lambda layer: runs on load whatever safe_mode says (CVE-2025-9905)")

    def popen(cfg):
        cfg["config"]["layers"].append({"module": "subprocess", "class_name": "Popen", "config": {"args": ["echo", "pwned"]}, "registered_name": "subprocess>Popen"})
    put(m + "keras/subprocess_popen.keras", rewrite_keras_config(good, popen), "critical", ["KERAS-EXTERNAL-MODULE"],
        "object whose module is subprocess (CVE-2025-1550)")

    def get_file(cfg):
        cfg["config"]["layers"][1]["config"]["activation"] = {"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": None}
    put(m + "keras/get_file_gadget.keras", rewrite_keras_config(good, get_file), "critical", ["KERAS-GADGET"],
        "activation resolved to keras.utils.get_file (CVE-2025-8747)")

    def unsafe(cfg):
        cfg["config"]["layers"].insert(0, {"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization", "registered_name": None})
    put(m + "keras/enable_unsafe.keras", rewrite_keras_config(good, unsafe), "critical", ["KERAS-GADGET"],
        "config that calls keras.config.enable_unsafe_deserialization (CVE-2025-9906)")

    def custom(cfg):
        cfg["config"]["layers"][1]["module"] = "acme_layers"
        cfg["config"]["layers"][1]["registered_name"] = "acme_layers>Hidden"
    put(m + "keras/custom_module.keras", rewrite_keras_config(good, custom), "medium", ["KERAS-EXTERNAL-MODULE"],
        "layer from a module outside Keras (custom code imported on load)")
    tfop = layers + [{"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file", "trainable": False}}]
    put(m + "keras/tfoplambda_write_file.h5", h5_with_config({"name": "s", "layers": tfop}), "critical", ["KERAS-GADGET"],
        "TFOpLambda layer calling tf.io.write_file")
    put(m + "keras/dense_attribute_storage.h5", h5_with_config({"name": "s", "layers": layers}, vlen=True, libver="latest", extra_attrs=12),
        "high", ["SCAN-INCOMPLETE"], "root attributes in dense storage (fractal heap), which this reader does not read: incomplete, not clean")


# --- ONNX -------------------------------------------------------------------
def onnx_model(nodes, inits=(), inputs=None, outputs=None, functions=(), opsets=None):
    import onnx
    from onnx import TensorProto, helper

    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])]
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=opsets or [helper.make_opsetid("", 17)], functions=list(functions), producer_name="rampart-gen")
    m.ir_version = 8
    return m


def classifier():
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype("f4"), "w")
    b = numpy_helper.from_array(np.zeros(3, dtype="f4"), "b")
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="gemm"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Softmax", ["r"], ["y"], name="softmax")]
    return onnx_model(nodes, [w, b])


def external(model, tensor, location, length=None):
    from onnx import TensorProto

    for t in model.graph.initializer:
        if t.name == tensor:
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            e = t.external_data.add()
            e.key, e.value = "location", location
            if length is not None:
                e = t.external_data.add()
                e.key, e.value = "length", str(length)
    return model


def if_model(then_nodes, then_inits=()):
    from onnx import TensorProto, helper

    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    then_g = helper.make_graph(then_nodes, "then", [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])], initializer=list(then_inits))
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["e"], name="ident")], "else", [], [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])])
    cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    node = helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    return onnx_model([node], inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]), cond], outputs=[out])


def onnx_cases(b, m):
    import onnx
    from onnx import helper, numpy_helper

    ser = lambda model: model.SerializeToString()
    put(b + "onnx/classifier.onnx", ser(classifier()), "clean", technique="ordinary ONNX classifier (Gemm, Relu, Softmax) with in-file initializers")
    model = classifier()
    raw = numpy_helper.to_array(model.graph.initializer[0]).tobytes()
    put(b + "onnx/external/weights.bin", raw, "clean", ["SCAN-UNKNOWN-FORMAT"], technique="external tensor data file (raw bytes)")
    EXPECTED[b + "onnx/external/weights.bin"]["verdict"] = "clean"
    put(b + "onnx/external/model.onnx", ser(external(model, "w", "weights.bin", len(raw))), "clean",
        technique="external data next to the model, length matching the tensor")
    put(b + "onnx/if_subgraph.onnx", ser(if_model([helper.make_node("Identity", ["x"], ["t"], name="then_ident")])), "clean",
        technique="If node with then/else subgraphs")
    fn = helper.make_function("local.fns", "Double", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])], [helper.make_opsetid("", 17)])
    put(b + "onnx/local_function.onnx", ser(onnx_model([helper.make_node("Double", ["x"], ["y"], domain="local.fns", name="dbl")],
        functions=[fn], opsets=[helper.make_opsetid("", 17), helper.make_opsetid("local.fns", 1)])), "clean",
        technique="node calling a function the model defines in its own domain")

    put(m + "onnx/traversal.onnx", ser(external(classifier(), "w", "../../../../etc/passwd")), "critical", ["ONNX-EXTERNAL-DATA"],
        "external data location with ../ (CVE-2022-25882)")
    put(m + "onnx/absolute.onnx", ser(external(classifier(), "b", "/etc/shadow")), "critical", ["ONNX-EXTERNAL-DATA"],
        "absolute external data location (CVE-2024-27318)")
    inner = numpy_helper.from_array(np.zeros((1, 4), dtype="f4"), "t")
    inner.ClearField("raw_data")
    inner.data_location = onnx.TensorProto.EXTERNAL
    e = inner.external_data.add()
    e.key, e.value = "location", "../../home/user/.ssh/id_rsa"
    put(m + "onnx/nested_traversal.onnx", ser(if_model([], [inner])), "critical", ["ONNX-EXTERNAL-DATA"],
        "traversal in an initializer of an If branch (nested graph)")
    put(m + "onnx/missing_external.onnx", ser(external(classifier(), "w", "weights-not-shipped.bin")), "medium", ["ONNX-EXTERNAL-DATA"],
        "external data file that is not in the folder")
    custom = classifier()
    custom.graph.node.append(helper.make_node("Backdoor", ["y"], ["z"], domain="com.evil.ops", name="backdoor"))
    put(m + "onnx/custom_op.onnx", ser(custom), "medium", ["ONNX-CUSTOM-OP"], "operator from a custom domain (needs a native library)")
    put(m + "onnx/nested_custom_op.onnx", ser(if_model([helper.make_node("Exfil", ["x"], ["t"], domain="com.evil.ops", name="exfil")])),
        "medium", ["ONNX-CUSTOM-OP"], "custom operator inside an If branch")
    short = classifier()
    short.graph.initializer[0].raw_data = short.graph.initializer[0].raw_data[:-8]
    put(m + "onnx/size_mismatch.onnx", ser(short), "high", ["ONNX-TENSOR-SIZE"], "initializer with fewer raw bytes than its shape declares")
    put(m + "onnx/truncated.onnx", ser(classifier())[:-7], "high", ["ONNX-INVALID"], "truncated protobuf")


# --- TensorFlow ---------------------------------------------------------------
def tf_saved(module_fn, keep_variables=False):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(module_fn(tf), d)
        files = {}
        for root, _, names in os.walk(d):
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), d)
                if keep_variables or rel == "saved_model.pb":
                    with open(os.path.join(root, n), "rb") as f:
                        files[rel] = f.read()
        return files


def tf_cases(b, m):
    def dense(tf):
        class M(tf.Module):
            def __init__(self):
                self.w = tf.Variable(tf.ones((4, 2)))

            @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
            def __call__(self, x):
                return tf.nn.relu(tf.matmul(x, self.w))
        return M()

    def reader(tf):
        class M(tf.Module):
            @tf.function(input_signature=[])
            def __call__(self):
                return tf.io.read_file("/etc/passwd")
        return M()

    def writer(tf):
        class M(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
            def __call__(self, s):
                tf.io.write_file("/tmp/pwned", s)
                return s
        return M()

    def pyfunc(tf):
        class M(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
            def __call__(self, x):
                return tf.py_function(lambda v: v, [x], tf.float32)
        return M()

    for rel, data in tf_saved(dense, keep_variables=True).items():
        verdict = "clean"
        rules = [] if rel.endswith("saved_model.pb") else ["SCAN-UNKNOWN-FORMAT"]
        put(b + f"tensorflow/savedmodel/{rel}", data, verdict, rules, "TensorFlow SavedModel of a Dense layer (SaveV2/RestoreV2 on the saver's placeholder path)")
    put(m + "tensorflow/read_file/saved_model.pb", tf_saved(reader)["saved_model.pb"], "high", ["TF-DANGEROUS-OP"], "tf.io.read_file in a SavedModel function")
    put(m + "tensorflow/write_file/saved_model.pb", tf_saved(writer)["saved_model.pb"], "high", ["TF-DANGEROUS-OP"], "tf.io.write_file in a SavedModel function")
    put(m + "tensorflow/py_function/saved_model.pb", tf_saved(pyfunc)["saved_model.pb"], "critical", ["TF-DANGEROUS-OP"], "tf.py_function (EagerPyFunc) in a SavedModel")

    from tensorflow.core.framework import graph_pb2
    g = graph_pb2.GraphDef()
    n = g.node.add(name="x", op="Placeholder")
    n.attr["dtype"].type = 1
    n = g.node.add(name="y", op="Relu", input=["x"])
    n.attr["T"].type = 1
    put(b + "tensorflow/frozen_graph.pb", g.SerializeToString(), "clean", technique="frozen GraphDef with standard ops")
    g2 = graph_pb2.GraphDef()
    g2.CopyFrom(g)
    g2.node.add(name="evil", op="EvilCustomOp", input=["y"])
    put(m + "tensorflow/custom_op.pb", g2.SerializeToString(), "medium", ["TF-CUSTOM-OP"], "op not registered by TensorFlow (custom-op library)")
    g3 = graph_pb2.GraphDef()
    g3.CopyFrom(g)
    c = g3.node.add(name="path", op="Const")
    c.attr["dtype"].type = 7
    c.attr["value"].tensor.dtype = 7
    c.attr["value"].tensor.string_val.append(b"../../../../etc/cron.d/job")
    g3.node.add(name="save", op="SaveV2", input=["path", "names", "slices", "y"])
    put(m + "tensorflow/save_traversal.pb", g3.SerializeToString(), "high", ["TF-DANGEROUS-OP"], "SaveV2 writing to a constant path with ../")


# --- TFLite -----------------------------------------------------------------
def tflite_bytes(fn_module, flex=False, custom=False):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    m = fn_module(tf)
    c = tf.lite.TFLiteConverter.from_concrete_functions([m.f.get_concrete_function()], m)
    if flex:
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    c.allow_custom_ops = custom
    return c.convert()


def tflite_cases(b, m):
    def dense(tf):
        class M(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
            def f(self, x):
                return tf.nn.relu(tf.matmul(x, tf.ones((4, 2))))
        return M()

    def reads(tf):
        class M(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
            def f(self, s):
                return tf.strings.length(tf.io.read_file(s))
        return M()

    put(b + "tflite/dense.tflite", tflite_bytes(dense), "clean", technique="TFLite model with builtin ops only")
    put(m + "tflite/flex_read_file.tflite", tflite_bytes(reads, flex=True), "high", ["TF-DANGEROUS-OP"],
        "Flex delegate op FlexReadFile (a TensorFlow file op inside TFLite)")
    put(m + "tflite/custom_op.tflite", tflite_bytes(reads, custom=True), "medium", ["TFLITE-CUSTOM-OP"],
        "custom operator (needs a native implementation registered)")


# --- TorchScript ------------------------------------------------------------
TS_CODE = (
    "class Net(Module):\n"
    "  __parameters__ = [\"weight\", ]\n"
    "  __buffers__ = []\n"
    "  weight : Tensor\n"
    "  def forward(self: __torch__.Net,\n"
    "    x: Tensor) -> Tensor:\n"
    "    _0 = torch.linear(x, self.weight)\n"
    "    return torch.relu(_0)\n"
)


def torchscript_zip(code=TS_CODE, constants=None):
    """A torch.jit.save archive laid out by hand: data.pkl names the
    compiled class __torch__.Net, code/ holds its TorchScript source."""
    import pickle
    import types
    import zipfile

    ts = types.ModuleType("__torch__")

    class Net:
        pass

    Net.__module__ = "__torch__"
    Net.__qualname__ = "Net"
    ts.Net = Net
    sys.modules["__torch__"] = ts
    net = Net()
    net.training = False
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        def put_member(name, data):
            info = zipfile.ZipInfo("net/" + name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
        put_member("data.pkl", pickle.dumps(net, protocol=2))
        put_member("code/__torch__.py", code.encode())
        put_member("code/__torch__.py.debug_pkl", pickle.dumps((0, ("", 0, 0)), protocol=2))
        put_member("constants.pkl", constants if constants is not None else pickle.dumps((), protocol=2))
        put_member("version", b"3\n")
    return out.getvalue()


def torchscript_cases(b, m):
    put(b + "torchscript/net.pt", torchscript_zip(), "clean", technique="TorchScript archive: __torch__ class, code/ source calling torch only")
    edited = "import os\n" + TS_CODE + "    _1 = os.system(\"echo pwned\")\n"
    put(m + "torchscript/edited_code.pt", torchscript_zip(edited), "high", ["TORCHSCRIPT-CALL"],
        "TorchScript source edited to import os and call os.system")
    payload = b"cos\nsystem\n(S'echo pwned'\ntR."
    put(m + "torchscript/constants_payload.pt", torchscript_zip(constants=payload), "critical", ["PICKLE-EXEC"],
        "constants.pkl of a TorchScript archive with a pickle payload")


def main():
    b, m = "benign/", "malicious/"
    for top in (b, m):
        for d in OWNED:
            shutil.rmtree(os.path.join(OUT, top, d), ignore_errors=True)
    gguf_cases(b, m)
    keras_cases(b, m)
    onnx_cases(b, m)
    tf_cases(b, m)
    tflite_cases(b, m)
    torchscript_cases(b, m)
    template_cases(b, m)

    path = os.path.join(OUT, "expected.json")
    with open(path) as f:
        files = json.load(f)["files"]
    files = {k: v for k, v in files.items() if k.split("/")[1] not in OWNED}
    files.update(EXPECTED)
    with open(path, "w") as f:
        json.dump({"files": files}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(EXPECTED)} samples to {OUT}/", file=sys.stderr)


if __name__ == "__main__":
    main()
