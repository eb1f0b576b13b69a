"""MLflow's registry doing what bench/registry.sh times Rampart doing:
N times, a new model version registered and an alias moved to it, through
MLflow's Python client on a local SQLite backend. Prints one JSON line.

    python bench/registry_mlflow.py DIR N
"""
import json
import os
import statistics
import sys
import time


def main(root, n):
    import mlflow
    from mlflow import MlflowClient

    os.makedirs(root, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = MlflowClient()
    client.create_registered_model("cmp")
    times = []
    for i in range(n):
        src = os.path.join(root, f"v{i}")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "model.bin"), "w") as f:
            f.write(f"cmp {i}")
        t = time.perf_counter()
        mv = client.create_model_version("cmp", source=src)
        client.set_registered_model_alias("cmp", "champion", mv.version)
        times.append(time.perf_counter() - t)
    print(json.dumps({
        "tool": f"mlflow {mlflow.__version__}",
        "register_and_promote_ms_p50": statistics.median(times) * 1e3,
        "n": n,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
