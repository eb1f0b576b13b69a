#!/usr/bin/env python3
"""Writes crates/rampart-scan/data/tensorflow-ops.txt: the name of every op
registered in the installed TensorFlow (tools/requirements-formats.txt), one
per line. The scanner reports ops of a TensorFlow graph that are not on this
list (custom ops need a shared library loaded at run time).

    /tmp/gen/bin/python tools/gen_tf_ops.py
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402  (registers every op)
from tensorflow.core.framework import op_def_pb2  # noqa: E402
from tensorflow.python.client import pywrap_tf_session  # noqa: E402

ops = op_def_pb2.OpList()
ops.ParseFromString(pywrap_tf_session.TF_GetBuffer(pywrap_tf_session.TF_GetAllOpList()))
names = sorted({o.name for o in ops.op})
with open("crates/rampart-scan/data/tensorflow-ops.txt", "w") as f:
    f.write(f"# {len(names)} ops registered by TensorFlow {tf.__version__} (tools/gen_tf_ops.py)\n")
    f.write("\n".join(names) + "\n")
print(len(names))
