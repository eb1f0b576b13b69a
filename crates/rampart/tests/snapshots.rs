//! Snapshots of what machines read: the JSON of `scan`, the `data`
//! commands, `ledger`, `evidence` and `run`, and the predicate of every
//! attestation they record. Taken before the engines moved out of the
//! binary, so that the move provably changed nothing a CI job parses.
//!
//! Volatile values (temporary paths, times, signatures) are replaced by
//! placeholders; everything else must match `tests/snapshots/NAME.json`
//! exactly. `UPDATE_SNAPSHOTS=1 cargo test --test snapshots` rewrites them
//! (never under CI, where a missing or different snapshot fails).

#![cfg(test)]

use base64::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .canonicalize()
        .unwrap()
}

fn rampart(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The JSON a command printed, and its exit code.
fn json_of(args: &[&str], cwd: &Path) -> Value {
    let o = rampart(args, cwd);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    json!({"exit": o.status.code(), "stdout": doc})
}

/// Keys whose values change from run to run (`report_sha256` is the
/// digest of a report holding a time).
const VOLATILE: [&str; 7] = [
    "started",
    "finished",
    "seconds",
    "seconds_to_fit_and_score",
    "time",
    "sig",
    "report_sha256",
];

/// Placeholders for paths and times.
fn normalise(v: &mut Value, dirs: &[(&str, &str)]) {
    match v {
        Value::String(s) => {
            for (from, to) in dirs {
                if s.contains(from) {
                    *s = s.replace(from, to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalise(x, dirs)),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if VOLATILE.contains(&k.as_str()) {
                    *x = json!("<volatile>");
                } else {
                    normalise(x, dirs);
                }
            }
        }
        _ => {}
    }
}

fn check(name: &str, mut actual: Value, dirs: &[(&str, &str)]) {
    normalise(&mut actual, dirs);
    let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some() && std::env::var_os("CI").is_none();
    if update {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run UPDATE_SNAPSHOTS=1 cargo test --test snapshots",
            path.display()
        )
    });
    assert!(
        expected == text,
        "{name} differs from {}:\n--- expected\n{expected}\n--- actual\n{text}",
        path.display()
    );
}

/// A small people table: personal data, quasi-identifiers, a label, a
/// duplicate, a conflicting label, and a row that is far from the rest.
fn people() -> String {
    let mut s = String::from("name,email,age,zip,sex,diagnosis,score,label\n");
    let rows = [
        (
            "Alice Martin",
            "alice.martin@example.com",
            34,
            "10115",
            "F",
            "flu",
            0.51,
            "yes",
        ),
        (
            "Bruno Keller",
            "bruno.keller@example.org",
            41,
            "10117",
            "M",
            "cold",
            0.47,
            "no",
        ),
        (
            "Chloe Dubois",
            "chloe@example.net",
            34,
            "10115",
            "F",
            "asthma",
            0.49,
            "yes",
        ),
        (
            "Daniel Weber",
            "d.weber@example.com",
            52,
            "10119",
            "M",
            "flu",
            0.55,
            "no",
        ),
        (
            "Emma Schmidt",
            "emma.s@example.com",
            29,
            "10115",
            "F",
            "cold",
            0.52,
            "yes",
        ),
        (
            "Felix Braun",
            "felix.braun@example.de",
            41,
            "10117",
            "M",
            "flu",
            0.46,
            "no",
        ),
    ];
    for i in 0..30 {
        let (n, e, a, z, x, d, sc, l) = rows[i % rows.len()];
        let score = sc + (i as f64) * 0.001;
        s.push_str(&format!("{n},{e},{a},{z},{x},{d},{score:.3},{l}\n"));
    }
    // An exact duplicate, a conflicting label and an outlier.
    s.push_str("Alice Martin,alice.martin@example.com,34,10115,F,flu,0.510,yes\n");
    s.push_str("Gina Rossi,gina@example.it,77,99999,F,gout,0.500,yes\n");
    s.push_str("Gina Rossi,gina@example.it,77,99999,F,gout,0.500,no\n");
    s.push_str("Hugo Lenz,hugo@example.at,19,10115,M,flu,950.0,no\n");
    s
}

/// Drifted copy of the numbers of [`people`].
fn shifted() -> String {
    let mut s = String::from("age,zip,sex,score\n");
    for i in 0..60 {
        s.push_str(&format!(
            "{},{},{},{:.3}\n",
            60 + i % 7,
            ["20095", "20097"][i % 2],
            ["F", "M"][i % 3 % 2],
            5.0 + i as f64 * 0.1
        ));
    }
    s
}

/// Every command's JSON and every attestation's predicate, in one
/// project with a ledger, in a fixed order.
#[test]
fn json_outputs_and_predicates_are_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().canonicalize().unwrap();
    let ex = examples();
    let (root_s, ex_s) = (root.display().to_string(), ex.display().to_string());
    let dirs = [(root_s.as_str(), "<TMP>"), (ex_s.as_str(), "<EXAMPLES>")];
    std::fs::write(root.join("people.csv"), people()).unwrap();
    std::fs::write(root.join("shifted.csv"), shifted()).unwrap();
    std::fs::create_dir(root.join("model")).unwrap();
    for (from, to) in [
        ("benign/torch/state_dict.pt", "model/state_dict.pt"),
        ("malicious/exec/os_system_protocol4.pkl", "model/bad.pkl"),
        ("benign/onnx/classifier.onnx", "model/classifier.onnx"),
    ] {
        std::fs::copy(ex.join(from), root.join(to)).unwrap();
    }
    std::fs::write(
        root.join("rampart.toml"),
        r#"
[[stage]]
name = "model"
[[stage.gate]]
gate = "verify"
inputs = ["model"]
key = "release.pub"
[[stage.gate]]
gate = "scan"
inputs = ["model"]

[[stage]]
name = "data"
[[stage.gate]]
gate = "pii"
inputs = ["people.csv"]
threshold = 0.6
[[stage.gate]]
gate = "risk"
inputs = ["people.csv"]
quasi = ["age", "zip"]
sensitive = "diagnosis"
min_k = 2

[admission]
require = ["scan"]
"#,
    )
    .unwrap();
    let out = rampart(&["ledger", "init"], &root);
    assert!(out.status.success(), "{out:?}");
    let out = rampart(&["keygen", "release"], &root);
    assert!(out.status.success(), "{out:?}");
    let out = rampart(&["sign", "model", "--key", "release.key"], &root);
    assert!(out.status.success(), "{out:?}");

    let mut all = serde_json::Map::new();
    let mut put = |name: &str, v: Value| {
        all.insert(name.to_string(), v);
    };
    put(
        "scan",
        json_of(&["scan", "model", "--format", "json", "--inventory"], &root),
    );
    put(
        "verify",
        json_of(
            &["verify", "model", "--key", "release.pub", "--json"],
            &root,
        ),
    );
    put(
        "pii_scan",
        json_of(&["data", "pii", "scan", "people.csv", "--json"], &root),
    );
    put(
        "risk",
        json_of(
            &[
                "data",
                "risk",
                "people.csv",
                "--quasi",
                "age,zip,sex",
                "--sensitive",
                "diagnosis",
                "--json",
            ],
            &root,
        ),
    );
    let poison = json_of(
        &[
            "data",
            "poison",
            "people.csv",
            "--label",
            "label",
            "--outliers",
            "--groups",
            "sex",
            "--json",
        ],
        &root,
    );
    std::fs::write(
        root.join("poison.json"),
        serde_json::to_vec(&poison["stdout"]).unwrap(),
    )
    .unwrap();
    put("poison", poison);
    put(
        "filter",
        json_of(
            &[
                "data",
                "filter",
                "people.csv",
                "clean.csv",
                "--drop-findings",
                "poison.json",
                "--json",
            ],
            &root,
        ),
    );
    let out = rampart(
        &["data", "profile", "people.csv", "-o", "people.profile.json"],
        &root,
    );
    assert!(out.status.success(), "{out:?}");
    let profile: Value =
        serde_json::from_slice(&std::fs::read(root.join("people.profile.json")).unwrap()).unwrap();
    // The sketches are the digests' internals; the summary is the report.
    put(
        "profile",
        json!({"rows": profile["rows"], "sources": profile["sources"], "summary": profile["summary"]}),
    );
    let out = rampart(
        &["data", "suggest", "people.csv", "-o", "expect.toml"],
        &root,
    );
    assert!(out.status.success(), "{out:?}");
    put(
        "validate",
        json_of(
            &[
                "data",
                "validate",
                "shifted.csv",
                "--expect",
                "expect.toml",
                "--json",
            ],
            &root,
        ),
    );
    put(
        "drift",
        json_of(
            &[
                "data",
                "drift",
                "people.profile.json",
                "shifted.csv",
                "--json",
            ],
            &root,
        ),
    );
    put(
        "run",
        json_of(&["run", "--format", "json", "--keep-going"], &root),
    );
    put(
        "evidence",
        json_of(&["evidence", "model", "--format", "json"], &root),
    );
    // Every attestation, in ledger order: its type, subject and predicate.
    let mut statements = Vec::new();
    for i in 0.. {
        let o = rampart(&["ledger", "show", &i.to_string()], &root);
        if !o.status.success() {
            break;
        }
        let env: Value = serde_json::from_slice(&o.stdout).unwrap();
        let payload = base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap();
        let st: Value = serde_json::from_slice(&payload).unwrap();
        statements.push(json!({
            "predicateType": st["predicateType"],
            "subject": st["subject"],
            "predicate": st["predicate"],
        }));
    }
    assert!(statements.len() >= 10, "{statements:?}");
    put("attestations", Value::Array(statements));
    let o = rampart(&["run", "--format", "junit", "--keep-going"], &root);
    put(
        "run_junit",
        json!({"exit": o.status.code(), "stdout": String::from_utf8_lossy(&o.stdout)}),
    );
    check("json_outputs", Value::Object(all), &dirs);
}
