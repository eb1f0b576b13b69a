#!/usr/bin/env python3
"""Benchmark inputs, written to bench/out/ (not committed). Stdlib only.

- big_bytes.pkl: one pickle of a single 500 MiB bytes object (BINBYTES8).
- dense_dict.pkl: a dict of 2,000,000 small items (str key -> int), protocol 4:
  opcode-dense (about 6 opcodes per item).
- tuple_list.pkl: a list of 2,000,000 memoized (int, str) tuples: the
  memory worst case for a symbolic VM (every item is a memo entry and a
  container).
- torch_large.pt: a PyTorch-layout zip (archive/data.pkl + 8 tensor
  members of 64 MiB each, stored) as torch.save writes it.
- huge.gguf, huge.safetensors: 10 GiB files (sparse: the tensor data is a
  hole) with a chat template / an ordinary header: a scanner that reads
  only the header takes the same time as on a small file.
- big.onnx: an ONNX model (hand-encoded protobuf) with a 512 MiB
  initializer stored in the file.
"""
import collections
import json
import os
import struct
import pickle
import sys
import types
import zipfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
os.makedirs(OUT, exist_ok=True)


def big_bytes(path, mib=500):
    payload = os.urandom(1 << 20) * mib
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=4)


def dense_dict(path, n=2_000_000):
    d = {f"k{i}": i for i in range(n)}
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=4)


def tuple_list(path, n=2_000_000):
    with open(path, "wb") as f:
        pickle.dump([(i, str(i)) for i in range(n)], f, protocol=4)


def torch_large(path, tensors=8, mib=64):
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    def _rebuild_tensor_v2(*a):
        return None

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage

    class Key:
        def __init__(self, k):
            self.k = k

    class T:
        def __init__(self, k):
            self.k = k

        def __reduce__(self):
            return (_rebuild_tensor_v2, (Key(self.k), 0, (mib << 18,), (1,), False, collections.OrderedDict()))

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Key):
                return ("storage", FloatStorage, str(obj.k), "cpu", mib << 18)
            return None

    import io
    buf = io.BytesIO()
    P(buf, protocol=2).dump(collections.OrderedDict((f"layer{i}.weight", T(i)) for i in range(tensors)))
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for i in range(tensors):
            with z.open(f"archive/data/{i}", "w", force_zip64=True) as w:
                for _ in range(mib):
                    w.write(block)
        z.writestr("archive/version", "3\n")


TEN_GIB = 10 << 30
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def huge_gguf(path):
    s = lambda t: struct.pack("<Q", len(t.encode())) + t.encode()
    kv = s("general.architecture") + struct.pack("<I", 8) + s("llama")
    kv += s("tokenizer.chat_template") + struct.pack("<I", 8) + s(CHATML)
    info = s("token_embd.weight") + struct.pack("<I", 1) + struct.pack("<Q", TEN_GIB // 4) + struct.pack("<IQ", 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kv + info
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + TEN_GIB)


def huge_safetensors(path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [TEN_GIB // 4], "data_offsets": [0, TEN_GIB]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + TEN_GIB)


def pb_varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def pb_field(num, payload):
    return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload


def big_onnx(path, mib=512):
    n = (mib << 20) // 4
    raw = os.urandom(1 << 20) * mib
    tensor = pb_varint(1 << 3) + pb_varint(n) + pb_varint(2 << 3) + pb_varint(1) + pb_field(8, b"w") + pb_field(9, raw)
    node = pb_field(1, b"x") + pb_field(1, b"w") + pb_field(2, b"y") + pb_field(3, b"add") + pb_field(4, b"Add")
    graph = pb_field(1, node) + pb_field(2, b"g") + pb_field(5, tensor)
    opset = pb_field(1, b"") + pb_varint(2 << 3) + pb_varint(17)
    model = pb_varint(1 << 3) + pb_varint(8) + pb_field(7, graph) + pb_field(8, opset)
    with open(path, "wb") as f:
        f.write(model)


if __name__ == "__main__":
    targets = {
        "big_bytes.pkl": big_bytes,
        "dense_dict.pkl": dense_dict,
        "tuple_list.pkl": tuple_list,
        "torch_large.pt": torch_large,
        "huge.gguf": huge_gguf,
        "huge.safetensors": huge_safetensors,
        "big.onnx": big_onnx,
    }
    for name, fn in targets.items():
        path = os.path.join(OUT, name)
        if not os.path.exists(path):
            fn(path)
        print(f"{path}: {os.path.getsize(path) / (1 << 20):.1f} MiB")
