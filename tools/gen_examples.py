#!/usr/bin/env python3
"""Generates examples/: benign and malicious pickle-family samples, one or
more per technique, and examples/expected.json with the verdict for each.

Run from the repository root with a Python that has numpy, joblib,
scikit-learn, zstandard, lz4 and py7zr (tools/requirements-examples.txt):

    python3 -m venv /tmp/gen && /tmp/gen/bin/pip install -r tools/requirements-examples.txt
    /tmp/gen/bin/python tools/gen_examples.py

The malicious payloads only run `echo`; nothing here is loaded, only written.
PyTorch is not needed: the torch files are written exactly as torch.save
lays them out, with stand-in `torch` modules so that pickle emits the same
globals (torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...).
"""
import base64
import bz2
import collections
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import sys
import tarfile
import types
import zipfile
import zlib

import joblib
import lz4.frame
import numpy as np
import py7zr
import zstandard
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline

OUT = "examples"
EXPECTED = {}


def put(rel, data, verdict, rules=(), technique=""):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    EXPECTED[rel] = {"verdict": verdict, "rules": list(rules), "technique": technique}


# --- stand-in torch ---------------------------------------------------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils


def _fn(mod, name):
    def f(*a):
        return None
    f.__module__ = mod.__name__
    f.__qualname__ = f.__name__ = name
    setattr(mod, name, f)
    return f


rebuild_tensor_v2 = _fn(torch_utils, "_rebuild_tensor_v2")
rebuild_parameter = _fn(torch_utils, "_rebuild_parameter")


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage


class Storage:
    def __init__(self, key, data):
        self.key, self.data = key, data


class Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (rebuild_tensor_v2, (self.storage, 0, self.shape, stride, False, collections.OrderedDict()))


class Parameter:
    def __init__(self, t):
        self.t = t

    def __reduce__(self):
        return (rebuild_parameter, (self.t, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", len(obj.data) // 4)
        return None


class Evil:
    """Reduces to os.system('echo ...'): what a malicious checkpoint does."""

    def __init__(self, cmd="echo rampart-example"):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def state_dict(evil=False):
    rng = np.random.default_rng(0)
    sd = collections.OrderedDict()
    storages = []
    for i, (name, shape) in enumerate([("fc.weight", (4, 3)), ("fc.bias", (4,))]):
        data = rng.standard_normal(int(np.prod(shape))).astype("<f4").tobytes()
        st = Storage(str(i), data)
        storages.append(st)
        sd[name] = Parameter(Tensor(st, shape)) if name.endswith("weight") else Tensor(st, shape)
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "fc": {"version": 1}})
    if evil:
        sd["fc.hook"] = Evil()
    return sd, storages


def _put_member(zf, name, data):
    """Adds a stored member with a fixed timestamp (reproducible output)."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    zf.writestr(info, data)


def torch_zip(evil=False, extra=None, root="archive"):
    sd, storages = state_dict(evil)
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(sd)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        _put_member(zf, f"{root}/data.pkl", buf.getvalue())
        _put_member(zf, f"{root}/byteorder", "little")
        for st in storages:
            _put_member(zf, f"{root}/data/{st.key}", st.data)
        _put_member(zf, f"{root}/version", "3\n")
        _put_member(zf, f"{root}/.data/serialization_id", "1234567890")
        for name, data in (extra or {}).items():
            _put_member(zf, name, data)
    return z.getvalue()


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def torch_legacy(evil=False):
    sd, storages = state_dict(evil)
    f = io.BytesIO()
    for obj in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True,
                                      "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(obj, f, protocol=2)
    TorchPickler(f, protocol=2).dump(sd)
    pickle.dump([s.key for s in storages], f, protocol=2)
    for s in storages:
        f.write(struct.pack("<q", len(s.data) // 4))
        f.write(s.data)
    return f.getvalue()


def torch_tar(evil=False):
    sd, storages = state_dict(evil)
    members = {}
    members["sys_info"] = pickle.dumps({"protocol_version": 1000, "little_endian": True}, protocol=2)
    main = io.BytesIO()
    TorchPickler(main, protocol=2).dump(sd)
    members["pickle"] = main.getvalue()
    t = io.BytesIO()
    pickle.dump(0, t, protocol=2)
    members["tensors"] = t.getvalue()
    s = io.BytesIO()
    pickle.dump(len(storages), s, protocol=2)
    for st in storages:
        pickle.dump((st.key, "cpu", FloatStorage), s, protocol=2)
        s.write(struct.pack("<q", len(st.data) // 4))
        s.write(st.data)
    pickle.dump([], s, protocol=2)
    members["storages"] = s.getvalue()
    return tar_bytes(members)


def tar_bytes(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zip_bytes(members, method=zipfile.ZIP_STORED):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", method) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, data)
    return z.getvalue()


def patch_zip(data, member, flags=None, crc=None, local_name=None):
    """Edits header fields of one member in place (same-length names)."""
    b = bytearray(data)
    name = member.encode()
    # central directory entry
    i = b.find(b"PK\x01\x02" + b"", 0)
    while i != -1:
        nlen = struct.unpack_from("<H", b, i + 28)[0]
        if bytes(b[i + 46:i + 46 + nlen]) == name:
            local = struct.unpack_from("<I", b, i + 42)[0]
            if flags is not None:
                struct.pack_into("<H", b, i + 8, flags)
                struct.pack_into("<H", b, local + 6, flags)
            if crc is not None:
                struct.pack_into("<I", b, i + 16, crc)
                struct.pack_into("<I", b, local + 14, crc)
            if local_name is not None:
                assert len(local_name) == len(name)
                b[local + 30:local + 30 + nlen] = local_name.encode()
        i = b.find(b"PK\x01\x02", i + 4)
    return bytes(b)


EVIL = pickle.dumps(Evil(), protocol=4)


def u(text):
    """SHORT_BINUNICODE of `text`."""
    data = text.encode()
    assert len(data) < 256
    return b"\x8c" + bytes([len(data)]) + data


class NoTell(io.RawIOBase):
    """A write-only stream without tell(): joblib then writes arrays with no
    alignment padding, straight after the wrapper's BUILD opcode."""

    def __init__(self):
        self.buf = io.BytesIO()

    def writable(self):
        return True

    def write(self, b):
        return self.buf.write(b)

    def tell(self):
        raise io.UnsupportedOperation("no tell")


def joblib_differential():
    payload = b"cposix\nsystem\n(S'echo rampart-example'\ntR0" + b"N0" * 8
    out = NoTell()
    joblib.dump({"w": np.frombuffer(payload, dtype=np.uint8).copy()}, out)
    data = out.buf.getvalue()
    assert payload in data
    return data


def safetensors_bytes(tensors, metadata=None, header_text=None, trailing=b""):
    """A safetensors file: tensors is [(name, dtype, shape, data)], offsets
    assigned in order. header_text replaces the JSON header verbatim."""
    header, data, at = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, blob in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(blob)]}
        data += blob
        at += len(blob)
    text = (header_text if header_text is not None else json.dumps(header, separators=(",", ":"))).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data + trailing


def sklearn_model():
    X, y = load_iris(return_X_y=True)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X, y)


# Folders (under benign/ and malicious/) written by gen_model_formats.py.
FORMATS = ("gguf", "keras", "onnx", "tensorflow", "tflite", "torchscript", "templates")


def main():
    kept = {}
    if os.path.exists(os.path.join(OUT, "expected.json")):
        with open(os.path.join(OUT, "expected.json")) as f:
            kept = {k: v for k, v in json.load(f)["files"].items() if k.split("/")[1] in FORMATS}
    for top in ("benign", "malicious"):
        for d in os.listdir(os.path.join(OUT, top)) if os.path.isdir(os.path.join(OUT, top)) else ():
            if d not in FORMATS:
                shutil.rmtree(os.path.join(OUT, top, d))
    EXPECTED.update(kept)
    os.makedirs(OUT, exist_ok=True)
    b = "benign/"
    m = "malicious/"

    # ---- benign ----
    put(b + "torch/state_dict.pt", torch_zip(), "clean", technique="PyTorch zip state dict: persistent ids, _rebuild_tensor_v2, _rebuild_parameter, OrderedDict")
    put(b + "torch/legacy_state_dict.pt", torch_legacy(), "clean", technique="PyTorch <1.6 legacy format: five pickles then raw storages")
    put(b + "torch/legacy_tar.pt", torch_tar(), "clean", technique="PyTorch legacy tar checkpoint (sys_info, pickle, tensors, storages)")
    model = sklearn_model()
    put(b + "sklearn/pipeline.pkl", pickle.dumps(model, protocol=4), "clean", technique="scikit-learn pipeline, pickle protocol 4")
    f = io.BytesIO()
    joblib.dump(model, f)
    put(b + "sklearn/pipeline.joblib", f.getvalue(), "clean", technique="scikit-learn pipeline, joblib with inline numpy arrays")
    arrays = {"w": np.arange(12, dtype="<f8").reshape(3, 4), "i": np.arange(5, dtype="<i4"), "s": np.array(["ab", "cd"])}
    for comp in ("zlib", "gzip", "bz2", "lzma", "xz", "lz4"):
        f = io.BytesIO()
        joblib.dump(arrays, f, compress=(comp, 3))
        put(b + f"joblib/arrays.{comp}.joblib", f.getvalue(), "clean", technique=f"joblib arrays compressed with {comp}")
    containers = {"int": 1, "big": 2**100, "neg": -5, "float": 1.5, "str": "héllo", "bytes": b"\x00\x01",
                  "ba": bytearray(b"xy"), "list": [1, [2, [3]]], "tuple": (1, 2, 3), "set": {1, 2},
                  "fs": frozenset({3}), "none": None, "bool": True, "od": collections.OrderedDict(a=1),
                  "dd": collections.defaultdict(list)}
    for p in range(6):
        put(b + f"containers/protocol{p}.pkl", pickle.dumps(containers, protocol=p), "clean", technique=f"plain containers, protocol {p}")
    put(b + "containers/two_pickles.pkl", pickle.dumps([1, 2], protocol=2) + pickle.dumps({"a": 1}, protocol=4), "clean", technique="two pickles back to back")
    for p in (2, 5):
        put(b + f"numpy/array_protocol{p}.pkl", pickle.dumps(np.arange(6.0).reshape(2, 3), protocol=p), "clean", technique=f"numpy array pickled with protocol {p}")
    f = io.BytesIO()
    np.save(f, np.arange(10, dtype="<f4"))
    put(b + "numpy/numeric.npy", f.getvalue(), "clean", technique="numeric .npy (no pickle)")
    f = io.BytesIO()
    np.savez_compressed(f, a=np.arange(3), b=np.ones((2, 2)))
    put(b + "numpy/arrays.npz", f.getvalue(), "clean", technique="compressed .npz of numeric arrays")
    f = io.BytesIO()
    np.save(f, np.array([1, "x", None], dtype=object), allow_pickle=True)
    put(b + "numpy/object_plain.npy", f.getvalue(), "clean", technique="object .npy holding only plain values")
    put(b + "docs/README.txt", b"This folder holds example model artifacts.\n", "clean", ["SCAN-UNKNOWN-FORMAT"], "text file: listed as unknown format (info), not skipped silently")
    put(b + "docs/config.json", json.dumps({"hidden_size": 8}).encode(), "clean", technique="JSON config (valid JSON, no auto_map)")
    put(b + "wrapped/state_dict.pt.gz", gzip.compress(torch_zip(), mtime=0), "clean", technique="gzip around a torch zip")

    # ---- malicious: plain pickles ----
    for p in range(6):
        put(m + f"exec/os_system_protocol{p}.pkl", pickle.dumps(Evil(), protocol=p), "critical", ["PICKLE-EXEC"], f"os.system via REDUCE, protocol {p}")
    put(m + "exec/subprocess_popen.pkl",
        b"\x80\x04\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93\x94]\x8c\x04echo\x94a\x85R.",
        "critical", ["PICKLE-EXEC"], "subprocess.Popen via STACK_GLOBAL")
    put(m + "exec/builtins_exec_inst.pkl", b"(S'print(1)'\nibuiltins\nexec\n.", "critical", ["PICKLE-EXEC"], "builtins.exec via INST (protocol 0)")
    put(m + "exec/py2_builtin_eval.pkl", b"c__builtin__\neval\n(S'1+1'\ntR.", "critical", ["PICKLE-EXEC"], "Python 2 name __builtin__.eval (mapped by fix_imports)")
    put(m + "exec/numpy_runstring.pkl",
        b"\x80\x04" + u("numpy") + u("testing._private.utils.runstring") + b"\x93" + u("import os") + b"}\x86R.",
        "critical", ["PICKLE-EXEC"], "dotted name numpy + testing._private.utils.runstring")
    put(m + "exec/pip_main.pkl", b"\x80\x04\x8c\x03pip\x8c\x04main\x93]\x8c\x07install\x94a\x85R.",
        "critical", ["PICKLE-EXEC"], "pip.main (CVE-2025-1716 picklescan bypass)")
    put(m + "exec/asyncio_subprocess.pkl",
        b"\x80\x04" + u("asyncio.unix_events") + u("_UnixSubprocessTransport._start") + b"\x93.",
        "critical", ["PICKLE-EXEC"], "submodule of a dangerous package (CVE-2025-10157 style)")
    put(m + "reflection/getattr_chain.pkl",
        b"\x80\x04cbuiltins\ngetattr\n\x8c\x02os\x8c\x06system\x93\x8c\x06system\x86R\x8c\x02id\x85R.",
        "critical", ["PICKLE-REFLECTION", "PICKLE-EXEC"], "builtins.getattr gadget, result called")
    put(m + "reflection/dunder_subclasses.pkl",
        b"\x80\x04" + u("builtins") + u("object.__subclasses__") + b"\x93)R.",
        "critical", ["PICKLE-REFLECTION"], "attribute escape through a dunder (object.__subclasses__)")
    put(m + "reflection/functools_partial.pkl",
        b"\x80\x04cfunctools\npartial\ncbuiltins\nprint\n\x85R)R.",
        "critical", ["PICKLE-REFLECTION"], "functools.partial call gadget")
    put(m + "import/dunder_import.pkl", b"cbuiltins\n__import__\n(S'os'\ntR.", "critical", ["PICKLE-IMPORT"], "builtins.__import__")
    put(m + "import/importlib.pkl", b"\x80\x04cimportlib\nimport_module\n\x8c\x02os\x85R.", "critical", ["PICKLE-IMPORT"], "importlib.import_module")
    put(m + "computed/stack_global_from_call.pkl",
        b"\x80\x04cbuiltins\nstr\n\x8c\x02os\x85R\x8c\x06system\x93\x8c\x02id\x85R.",
        "critical", ["PICKLE-COMPUTED-GLOBAL", "PICKLE-INDIRECT-CALL"], "STACK_GLOBAL whose module is computed by a call")
    put(m + "ext/extension_code.pkl", b"\x80\x02\x82\x01)R.", "high", ["PICKLE-EXTENSION"], "EXT1: global from the copyreg extension registry")
    put(m + "file/builtins_open.pkl", b"\x80\x04cbuiltins\nopen\n\x8c\x0b/etc/passwd\x85R.", "high", ["PICKLE-FILE"], "builtins.open")
    put(m + "network/socket.pkl", b"\x80\x04csocket\ncreate_connection\n\x8c\x09127.0.0.1\x8c\x02\x35\x30\x86\x85R.", "high", ["PICKLE-NETWORK"], "socket.create_connection")
    inner = base64.b64encode(EVIL)
    put(m + "nested/pickle_loads_base64.pkl",
        b"\x80\x04cpickle\nloads\ncbase64\nb64decode\nC" + bytes([len(inner)]) + inner + b"\x85R\x85R.",
        "critical", ["PICKLE-NESTED-LOAD", "PICKLE-EXEC", "PICKLE-NESTED"], "pickle.loads of a base64 pickle: inner pickle scanned too")
    put(m + "nested/torch_load_from_bytes.pkl",
        b"\x80\x02ctorch.storage\n_load_from_bytes\nC" + bytes([len(EVIL)]) + EVIL + b"\x85R.",
        "critical", ["PICKLE-NESTED-LOAD", "PICKLE-EXEC", "PICKLE-NESTED"], "torch.storage._load_from_bytes with a raw nested pickle")
    put(m + "unknown/custom_class.pkl", b"\x80\x04\x8c\x05mypkg\x8c\x05Model\x93)\x81}b.", "medium", ["PICKLE-UNKNOWN-GLOBAL"], "a global not on the allowlist")
    put(m + "evasion/frame_length_lies.pkl",
        b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.",
        "critical", ["PICKLE-EXEC"], "FRAME length shorter than the opcodes (C unpickler parses across frames)")
    put(m + "evasion/after_first_stop.pkl", pickle.dumps([1], protocol=2) + EVIL, "critical", ["PICKLE-EXEC"], "payload in a second pickle after the first STOP")
    put(m + "evasion/truncated.pkl", EVIL[:-4], "critical", ["PICKLE-EXEC", "PICKLE-MALFORMED"], "truncated before STOP: never clean")
    put(m + "evasion/invalid_opcode_after_payload.pkl", EVIL[:-1] + b"\xff", "critical", ["PICKLE-EXEC", "PICKLE-MALFORMED"], "invalid opcode after the payload")
    put(m + "evasion/named.safetensors", EVIL, "critical", ["PICKLE-EXEC"], "pickle named .safetensors")
    put(m + "evasion/named.txt", pickle.dumps(Evil(), protocol=0), "critical", ["PICKLE-EXEC"], "protocol 0 pickle named .txt")
    put(m + "evasion/no_extension", EVIL, "critical", ["PICKLE-EXEC"], "pickle with no extension")
    put(m + "evasion/memo_reuse.pkl",
        b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94N0h\x00h\x01\x93\x8c\x02id\x85R.",
        "critical", ["PICKLE-EXEC"], "module and name fetched from the memo")
    put(m + "evasion/unicode_escape_name.pkl", b"\x80\x04V\\u006fs\n\x8c\x06system\x93\x8c\x02id\x85R.", "critical", ["PICKLE-EXEC"], "raw-unicode-escape spelling of the module name")

    # ---- malicious: torch ----
    put(m + "torch/state_dict_payload.pt", torch_zip(evil=True), "critical", ["PICKLE-EXEC"], "os.system inside a torch zip data.pkl")
    put(m + "torch/extra_pickle_member.pt", torch_zip(extra={"archive/extra/payload.bin": EVIL}), "critical", ["PICKLE-EXEC"], "a second pickle member in another folder of a torch zip")
    put(m + "torch/other_root_name.pt", torch_zip(evil=True, root="my_model"), "critical", ["PICKLE-EXEC"], "torch zip whose root folder is not 'archive'")
    put(m + "torch/legacy_payload.pt", torch_legacy(evil=True), "critical", ["PICKLE-EXEC"], "legacy torch format with a payload in the main pickle")
    put(m + "torch/legacy_tar_payload.pt", torch_tar(evil=True), "critical", ["PICKLE-EXEC"], "legacy torch tar with a payload")
    z = torch_zip(evil=True)
    put(m + "zip/encrypted_flag.pt", patch_zip(z, "archive/data.pkl", flags=0x1), "critical", ["PICKLE-EXEC", "ZIP-DIFFERENTIAL"], "encryption flag set on a plaintext member (strict readers skip it)")
    put(m + "zip/flags_0x20_0x40.pt", patch_zip(z, "archive/data.pkl", flags=0x60), "critical", ["PICKLE-EXEC", "ZIP-DIFFERENTIAL"], "patch and strong-encryption flags")
    put(m + "zip/crc_mismatch.pt", patch_zip(z, "archive/data.pkl", crc=0xDEADBEEF), "critical", ["PICKLE-EXEC", "ZIP-DIFFERENTIAL"], "CRC mismatch (CVE-2025-10156)")
    put(m + "zip/name_mismatch.pt", patch_zip(z, "archive/data.pkl", local_name="archive/data.pkx"), "critical", ["PICKLE-EXEC", "ZIP-DIFFERENTIAL"], "local and central names differ")
    put(m + "zip/prepended_bytes.zip", b"#!/bin/sh\necho prepended\n" + zip_bytes({"model.pkl": EVIL}), "critical", ["PICKLE-EXEC", "ZIP-DIFFERENTIAL"], "bytes prepended to a zip")
    put(m + "zip/deflated_member.zip", zip_bytes({"weights/model.bin": EVIL}, zipfile.ZIP_DEFLATED), "critical", ["PICKLE-EXEC"], "deflated pickle member")

    # ---- malicious: numpy / joblib ----
    f = io.BytesIO()
    np.save(f, np.array([Evil(), 1], dtype=object), allow_pickle=True)
    npy_evil = f.getvalue()
    put(m + "numpy/object_array.npy", npy_evil, "critical", ["PICKLE-EXEC"], "object .npy whose pickle runs os.system")
    put(m + "numpy/object_array.npz", zip_bytes({"arr_0.npy": npy_evil}, zipfile.ZIP_DEFLATED), "critical", ["PICKLE-EXEC"], ".npz holding an object array")
    f = io.BytesIO()
    joblib.dump({"w": np.arange(4.0), "o": np.array([Evil()], dtype=object)}, f)
    put(m + "joblib/object_array.joblib", f.getvalue(), "critical", ["PICKLE-EXEC"], "joblib object array (pickle inline after the wrapper)")
    put(m + "joblib/array_bytes_are_opcodes.joblib", joblib_differential(), "critical", ["PICKLE-EXEC"],
        "joblib file whose array bytes are opcodes for pickle.load (benign to joblib.load, a payload to pickle.load)")
    f = io.BytesIO()
    joblib.dump({"model": Evil()}, f, compress=("zlib", 3))
    put(m + "joblib/payload.zlib.joblib", f.getvalue(), "critical", ["PICKLE-EXEC"], "zlib-compressed joblib with a payload")

    # ---- safetensors ----
    w = np.arange(6, dtype="<f4").tobytes()
    bias = np.arange(2, dtype="<f4").tobytes()
    good = [("fc.weight", "F32", (2, 3), w), ("fc.bias", "F32", (2,), bias)]
    put(b + "safetensors/model.safetensors", safetensors_bytes(good, {"format": "pt"}), "clean",
        technique="valid safetensors: header only is read")
    put(m + "safetensors/trailing_pickle.safetensors", safetensors_bytes(good, trailing=EVIL), "critical",
        ["SAFETENSORS-TRAILING-DATA", "PICKLE-EXEC"], "pickle appended after the tensor data (polyglot)")
    put(m + "safetensors/trailing_zip.safetensors", safetensors_bytes(good, trailing=zip_bytes({"m.pkl": EVIL})), "critical",
        ["SAFETENSORS-TRAILING-DATA", "PICKLE-EXEC"], "zip appended after the tensor data (polyglot)")
    put(m + "safetensors/overlapping_offsets.safetensors", safetensors_bytes([], header_text=
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}}') + bytes(20),
        "high", ["SAFETENSORS-INVALID"], "overlapping data_offsets")
    put(m + "safetensors/duplicate_keys.safetensors", safetensors_bytes([], header_text=
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}') + bytes(4),
        "high", ["SAFETENSORS-INVALID"], "duplicate tensor names in the header")
    put(m + "safetensors/size_mismatch.safetensors", safetensors_bytes([], header_text=
        '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}') + bytes(8),
        "high", ["SAFETENSORS-INVALID"], "shape x dtype does not match data_offsets")
    put(m + "safetensors/unknown_dtype.safetensors", safetensors_bytes([], header_text=
        '{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}') + bytes(4),
        "high", ["SAFETENSORS-INVALID"], "unknown dtype")
    put(m + "safetensors/metadata_not_strings.safetensors", safetensors_bytes([], header_text=
        '{"__metadata__":{"n":1},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}') + bytes(1),
        "high", ["SAFETENSORS-INVALID"], "__metadata__ values that are not strings")
    put(m + "wrapped/safetensors_trailing.gz", gzip.compress(safetensors_bytes(good, trailing=EVIL), mtime=0), "critical",
        ["SAFETENSORS-TRAILING-DATA", "PICKLE-EXEC"], "safetensors polyglot inside gzip")

    # ---- model repository folders and formats not analysed yet ----
    put(m + "repo/config.json", json.dumps({"model_type": "evil", "auto_map": {
        "AutoModel": "modeling_evil.EvilModel", "AutoConfig": "configuration_evil.EvilConfig"}}).encode(),
        "high", ["REPO-REMOTE-CODE"], "config.json with auto_map (needs trust_remote_code=True)")
    put(m + "repo/modeling_evil.py", b"import os\nos.system('echo rampart-example')\n", "high", ["REPO-CODE-FILE"],
        "Python module named by auto_map")
    put(m + "repo/libcustom_op.so", b"\x7fELF\x02\x01\x01" + bytes(57), "high", ["REPO-CODE-FILE"],
        "ELF shared library (by content)")
    put(m + "repo/setup_model", b"#!/bin/sh\necho rampart-example\n", "high", ["REPO-CODE-FILE"],
        "script without extension (by its #! line)")
    put(m + "repo/tokenizer.json", b'{"version": "1.0", "truncation": ', "low", ["REPO-INVALID-JSON"],
        "truncated tokenizer JSON")
    # ---- malicious: wrappers ----
    put(m + "wrapped/payload.pkl.gz", gzip.compress(EVIL, mtime=0), "critical", ["PICKLE-EXEC"], "gzip")
    put(m + "wrapped/payload.pkl.bz2", bz2.compress(EVIL), "critical", ["PICKLE-EXEC"], "bzip2")
    put(m + "wrapped/payload.pkl.xz", lzma.compress(EVIL), "critical", ["PICKLE-EXEC"], "xz")
    put(m + "wrapped/payload.pkl.lzma", lzma.compress(EVIL, format=lzma.FORMAT_ALONE), "critical", ["PICKLE-EXEC"], "legacy .lzma")
    put(m + "wrapped/payload.pkl.zlib", zlib.compress(EVIL), "critical", ["PICKLE-EXEC"], "zlib")
    put(m + "wrapped/payload.pkl.zst", zstandard.ZstdCompressor().compress(EVIL), "critical", ["PICKLE-EXEC"], "zstd")
    put(m + "wrapped/payload.pkl.lz4", lz4.frame.compress(EVIL), "critical", ["PICKLE-EXEC"], "lz4 frame")
    put(m + "wrapped/payload.tar", tar_bytes({"model/weights.bin": EVIL}), "critical", ["PICKLE-EXEC"], "tar")
    s = io.BytesIO()
    with py7zr.SevenZipFile(s, "w") as sz:
        sz.writestr(EVIL, "model.pkl")
    put(m + "wrapped/payload.7z", s.getvalue(), "critical", ["PICKLE-EXEC"], "7z")
    put(m + "wrapped/gzip_tar_zip.tgz", gzip.compress(tar_bytes({"inner.zip": zip_bytes({"m.pkl": EVIL})}), mtime=0), "critical", ["PICKLE-EXEC"], "zip inside tar inside gzip")
    deep = EVIL
    for _ in range(8):
        deep = gzip.compress(deep, mtime=0)
    put(m + "limits/gzip_8_deep.gz", deep, "high", ["SCAN-INCOMPLETE"], "nesting deeper than the limit: reported, not passed")
    put(m + "limits/corrupt.gz", gzip.compress(EVIL, mtime=0)[:20] + b"\x00" * 16, "high", ["SCAN-CORRUPT"], "corrupt gzip stream")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"files": EXPECTED}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(EXPECTED)} samples to {OUT}/")


if __name__ == "__main__":
    main()
