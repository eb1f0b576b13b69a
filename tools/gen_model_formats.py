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
headers are written by hand. Payloads only run `echo`; nothing is loaded.
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


def main():
    b, m = "benign/", "malicious/"
    for top in (b, m):
        for d in OWNED:
            shutil.rmtree(os.path.join(OUT, top, d), ignore_errors=True)
    gguf_cases(b, m)
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
