//! The binary as a user runs it: exit codes, formats, policy, rules.

#![cfg(test)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn rampart(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ex(rel: &str) -> String {
    examples().join(rel).display().to_string()
}

#[test]
fn exit_codes_follow_the_gate() {
    let d = tempfile::tempdir().unwrap();
    let clean = rampart(&["scan", &ex("benign/torch/state_dict.pt")], d.path());
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    assert!(text(&clean).contains("PASS"));
    let bad = rampart(
        &["scan", &ex("malicious/exec/os_system_protocol4.pkl")],
        d.path(),
    );
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("PICKLE-EXEC"));
    let missing = rampart(&["scan", "no/such/model.pt"], d.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("no/such/model.pt"),
        "{}",
        text(&missing)
    );
    let usage = rampart(&["scan"], d.path());
    assert_eq!(usage.status.code(), Some(2));
    // One unreadable input among readable ones: the others are still
    // scanned and reported, and the run is an error (2).
    let mixed = rampart(
        &[
            "scan",
            &ex("malicious/exec/os_system_protocol4.pkl"),
            "no/such/other.pt",
            "--format",
            "json",
        ],
        d.path(),
    );
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed));
    let v: serde_json::Value = serde_json::from_slice(&mixed.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "PICKLE-EXEC");
    assert_eq!(v["passed"], false);
    assert!(v["errors"][0]
        .as_str()
        .unwrap()
        .contains("no/such/other.pt"));
}

#[test]
fn fail_on_moves_the_threshold() {
    let d = tempfile::tempdir().unwrap();
    let medium = ex("malicious/unknown/custom_class.pkl");
    assert_eq!(rampart(&["scan", &medium], d.path()).status.code(), Some(1));
    assert_eq!(
        rampart(&["scan", &medium, "--fail-on", "high"], d.path())
            .status
            .code(),
        Some(0)
    );
    let bad = rampart(&["scan", &medium, "--fail-on", "severe"], d.path());
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn inventory_lists_formats_only_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let gguf = ex("benign/gguf/model.gguf");
    let keras = ex("benign/keras/dense.keras");
    let o = rampart(
        &["scan", &gguf, &keras, "--inventory", "--format", "json"],
        d.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let inv = v["inventory"].as_array().unwrap();
    let format_of = |suffix: &str| {
        inv.iter()
            .find(|a| {
                let members = a["location"]["members"].as_array().map_or(0, Vec::len);
                a["location"]["path"].as_str().unwrap().ends_with(suffix) && members == 0
            })
            .map(|a| {
                (
                    a["format"].as_str().unwrap().to_string(),
                    a["tensors"].as_u64(),
                )
            })
    };
    assert_eq!(format_of("model.gguf"), Some(("gguf v3".into(), Some(2))));
    assert_eq!(
        format_of("dense.keras").map(|f| f.0),
        Some("keras v3".into())
    );
    assert!(inv
        .iter()
        .any(|a| a["location"]["members"][0] == "config.json" && a["format"] == "keras config"));
    let table = text(&rampart(
        &["scan", &gguf, "--inventory", "--quiet"],
        d.path(),
    ));
    assert!(table.starts_with("FORMAT"), "{table}");
    let plain = rampart(&["scan", &gguf, "--format", "json"], d.path());
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v.get("inventory").is_none());
}

#[test]
fn json_output_is_machine_readable() {
    let d = tempfile::tempdir().unwrap();
    let o = rampart(
        &[
            "scan",
            &ex("malicious/torch/state_dict_payload.pt"),
            "--format",
            "json",
        ],
        d.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["counts"]["critical"], 1);
    assert_eq!(v["findings"][0]["rule"], "PICKLE-EXEC");
    assert_eq!(
        v["findings"][0]["location"]["members"][0],
        "archive/data.pkl"
    );
    assert_eq!(v["findings"][0]["evidence"]["global"], "posix.system");
}

#[test]
fn sarif_goes_to_a_file_atomically() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("scan.sarif");
    let o = rampart(
        &[
            "scan",
            &ex("malicious/exec"),
            "--format",
            "sarif",
            "--output",
            out.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["runs"][0]["results"].as_array().unwrap().len() >= 6);
    assert!(v["runs"][0]["tool"]["driver"]["rules"][0]["fullDescription"]["text"].is_string());
    // Only the report is left in the folder: no temporary file.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    // An unwritable destination is an I/O error (2), not a half file.
    let bad = d.path().join("missing/dir/out.sarif");
    let o = rampart(
        &[
            "scan",
            &ex("benign/numpy"),
            "--output",
            bad.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!bad.exists());
}

#[test]
fn policy_is_discovered_and_applied() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("project/models");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        d.path().join("project/rampart.toml"),
        "fail_on = \"medium\"\n[scan]\nallow = [\"mypkg.Model\"]\n",
    )
    .unwrap();
    let medium = ex("malicious/unknown/custom_class.pkl");
    let o = rampart(&["scan", &medium], &sub);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // --config overrides discovery.
    std::fs::write(d.path().join("strict.toml"), "fail_on = \"info\"\n").unwrap();
    let o = rampart(
        &[
            "scan",
            &medium,
            "--config",
            d.path().join("strict.toml").to_str().unwrap(),
        ],
        &sub,
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn malformed_policy_names_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("rampart.toml"),
        "fail_on = \"high\"\n\n[scan]\nallow = 3\n",
    )
    .unwrap();
    let o = rampart(&["scan", &ex("benign/numpy")], d.path());
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("rampart.toml") && t.contains("line 4"), "{t}");
    std::fs::write(
        d.path().join("rampart.toml"),
        "[scan.limits]\nmax_deepness = 3\n",
    )
    .unwrap();
    let o = rampart(&["scan", &ex("benign/numpy")], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("max_deepness"), "{}", text(&o));
}

#[test]
fn rules_lists_and_explains() {
    let d = tempfile::tempdir().unwrap();
    let o = rampart(&["rules"], d.path());
    assert_eq!(o.status.code(), Some(0));
    for id in [
        "PICKLE-EXEC",
        "PICKLE-UNKNOWN-GLOBAL",
        "SCAN-INCOMPLETE",
        "ZIP-DIFFERENTIAL",
    ] {
        assert!(text(&o).contains(id), "{id}");
    }
    // The full listing explains every rule; --short is one line each.
    assert!(text(&o).matches("Fix:").count() >= 19, "{}", text(&o));
    let short = rampart(&["rules", "--short"], d.path());
    assert!(!text(&short).contains("Fix:"));
    let lines = text(&short)
        .lines()
        .filter(|l| l.starts_with("PICKLE-") || l.starts_with("SCAN-") || l.starts_with("ZIP-"))
        .count();
    assert!(lines >= 19, "{}", text(&short));
    let o = rampart(&["rules", "pickle-exec"], d.path());
    assert!(
        text(&o).contains("Fix:") && text(&o).contains("References"),
        "{}",
        text(&o)
    );
    let o = rampart(&["rules", "PICKLE-NOPE"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("did you mean"), "{}", text(&o));
    let o = rampart(&["rules", "--format", "json"], d.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.as_array().unwrap().len() >= 19);
}

#[test]
fn demo_checks_every_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let o = rampart(&["demo"], &root);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("verdicts as expected"));
    assert!(!text(&o).contains("MISMATCH"));
}

#[test]
fn help_documents_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["scan", "--help"][..]] {
        let o = rampart(args, d.path());
        assert!(text(&o).contains("Exit codes"), "{}", text(&o));
    }
}

#[test]
fn docs_document_every_rule_and_exit_code() {
    let d = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut docs = String::new();
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        docs.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    let o = rampart(&["rules", "--format", "json"], d.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for r in v.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert!(
            docs.contains(&format!("| `{id}` |")),
            "docs/ does not document {id}"
        );
    }
    for code in ["| 0 |", "| 1 |", "| 2 |"] {
        assert!(docs.contains(code), "docs/ exit code row {code}");
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- demo"));
    assert!(readme.contains("cargo test --workspace"));
}

/// With a ledger, a folder with a link to a file inside it is scanned and
/// attested (the link's target bytes name it), and an input that cannot
/// be read leaves one JSON document and exit 2, never a second document.
#[test]
fn scans_with_a_ledger_attest_linked_folders_and_fail_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    std::fs::create_dir(p.join("model")).unwrap();
    std::fs::copy(
        examples().join("benign/torch/state_dict.pt"),
        p.join("model/weights.pt"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("weights.pt", p.join("model/latest.pt")).unwrap();
    let o = rampart(&["scan", "model"], p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("attestation: entry 0"), "{}", text(&o));
    let o = rampart(&["scan", "model", "nope.pt", "--format", "json"], p);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let docs = serde_json::Deserializer::from_slice(&o.stdout)
        .into_iter::<serde_json::Value>()
        .count();
    assert_eq!(docs, 1, "{}", String::from_utf8_lossy(&o.stdout));
}
