"""Helper of interop/mlflow_registry.sh: `make DIR` builds an MLflow
registry with MLflow itself; `check DIR IMPORT.json EXIT RAMPART` checks
Rampart's import of it against MLflow's client."""
import json
import os
import subprocess
import sys


def uri_of(root):
    """The tracking URI of a registry made by `make`: a SQLite database,
    or with STORE=files a file store."""
    if os.environ.get("STORE") == "files":
        return f"file://{root}/mlruns"
    return f"sqlite:///{root}/mlflow.db"


def make(root):
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    os.makedirs(root, exist_ok=True)
    mlflow.set_tracking_uri(uri_of(root))
    exp = mlflow.create_experiment("fraud", artifact_location=f"file://{root}/artifacts")
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    uris = []
    for c in (1.0, 0.1):
        with mlflow.start_run(experiment_id=exp):
            info = mlflow.sklearn.log_model(LogisticRegression(C=c).fit(X, y), name="model")
            uris.append(info.model_uri)
    client = MlflowClient()
    v1 = mlflow.register_model(uris[0], "fraud")
    v2 = mlflow.register_model(uris[1], "fraud")
    mlflow.register_model(uris[0], "fraud")  # the same artifacts again
    client.set_registered_model_alias("fraud", "production", v1.version)
    client.set_registered_model_alias("fraud", "champion", v2.version)
    mlflow.register_model(uris[1], "Fraud Detector")  # not a Rampart name


def check(root, import_json, code, rampart):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri_of(root))
    client = MlflowClient()
    got = json.load(open(import_json))
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok = ok and cond

    imported = {v["mlflow"]: v for v in got["versions"]}
    listed = client.search_model_versions("name='fraud'")
    expect(len(listed) == 3, f"MLflow lists 3 versions of fraud ({len(listed)})")
    for mv in listed:
        v = imported.get(f"fraud version {mv.version}")
        expect(v is not None, f"fraud version {mv.version} imported")
    by_digest = {}
    for mv in listed:
        v = imported[f"fraud version {mv.version}"]
        by_digest.setdefault(mv.source, set()).add(v["rampart"])
    expect(all(len(s) == 1 for s in by_digest.values()),
           "versions with the same artifacts are one Rampart version")
    expect(len({v["rampart"] for v in imported.values()}) == 2, "two distinct Rampart versions")
    for alias in ("production", "champion"):
        mv = client.get_model_version_by_alias("fraud", alias)
        want = imported[f"fraud version {mv.version}"]["rampart"]
        line = next((a for a in got["aliases"] if a.startswith(f"fraud@{alias} ")), "")
        expect(f"-> {want} (not promoted" in line, f"alias {alias} -> {want}, not promoted")
    expect(any("Fraud Detector" in f for f in got["failed"]), "an invalid name is listed as not imported")
    expect(int(code) == 1, f"exit 1 when something was not imported ({code})")
    # Each location is MLflow's storage location of that version.
    shown = subprocess.run([rampart, "registry", "list", "fraud", "--json"],
                           capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(import_json)))
    locations = {f"fraud@{v['version']}": v["location"] for v in json.loads(shown.stdout)}
    for mv in listed:
        uri = client.get_model_version_download_uri("fraud", mv.version)
        want = uri.removeprefix("file://")
        expect(want in locations.values(), f"version {mv.version}'s artifacts ({want}) are a Rampart location")
    for rv, loc in locations.items():
        uris = {client.get_model_version_download_uri("fraud", mv.version).removeprefix("file://")
                for mv in listed if imported[f"fraud version {mv.version}"]["rampart"] == rv}
        expect(loc in uris, f"{rv} is at MLflow's download URI of the versions it imports")
    # The bytes are bound: changed, they are refused.
    loc = locations["fraud@1"]
    with open(os.path.join(loc, "MLmodel"), "a") as f:
        f.write("\n# edited\n")
    r = subprocess.run([rampart, "registry", "resolve", "fraud", "1"],
                       capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(import_json)))
    expect(r.returncode == 1 and "not the registered ones" in r.stderr,
           "changed artifacts are refused by resolve")
    print("PASS" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if sys.argv[1] == "uri":
        print(uri_of(sys.argv[2]))
    elif sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(*sys.argv[2:6])
