//! A gate never passes what it did not fully read (docs/fail-closed.md):
//! each test here failed open on the code before it.

use std::path::Path;
use std::process::{Command, Output};

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A Windows-1252 export: "José Müller" and an e-mail address.
fn cp1252_csv() -> Vec<u8> {
    let mut b = b"id,name,note\n1,Jos\xe9 M\xfcller,see jose@example.com\n".to_vec();
    b.extend_from_slice(b"2,Ana,\x93quoted\x94 text\n");
    b
}

#[test]
fn records_that_are_not_utf8_fail_the_gate_and_name_the_encoding() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("legacy.csv"), cp1252_csv()).unwrap();
    // Before: both rows skipped, "0 matches", exit 0.
    let o = rampart(p, &["data", "pii", "scan", "legacy.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("DATA-UNREAD"), "{err}");
    assert!(err.contains("2 of 2 records could not be read"), "{err}");
    assert!(err.contains("--encoding cp1252"), "{err}");
    // Skipping is allowed when asked, and still counted.
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "scan",
            "legacy.csv",
            "--bad-input",
            "skip",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["skipped"], 2);
    // Decoded when asked: the address is found.
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "scan",
            "legacy.csv",
            "--encoding",
            "cp1252",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["skipped"], 0);
    assert!(v["counts"]["EMAIL_ADDRESS"].as_u64() >= Some(1), "{v}");
    let o = rampart(
        p,
        &["data", "pii", "scan", "legacy.csv", "--encoding", "klingon"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown encoding"), "{}", stderr(&o));
}

#[test]
fn a_stray_quote_fails_the_gate_and_mask_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,note\n1,\"oops\n");
    for i in 2..200 {
        csv.push_str(&format!("{i},call 415-555-{i:04}\n"));
    }
    std::fs::write(p.join("q.csv"), &csv).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "q.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("DATA-UNREAD"), "{err}");
    assert!(err.contains("lines 2-"), "{err}");
    // Before: "mask" wrote the header alone and exited 0.
    let o = rampart(p, &["data", "pii", "mask", "q.csv", "out.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!p.join("out.csv").exists());
    let partial = std::fs::read_dir(p)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(partial, 0);
    // Every data command that reads rows fails the same way.
    for args in [
        &["data", "validate", "q.csv", "--expect", "e.toml"][..],
        &["data", "poison", "q.csv"],
        &["data", "risk", "q.csv", "--quasi", "id"],
        &["data", "profile", "q.csv", "-o", "p.json"],
    ] {
        std::fs::write(p.join("e.toml"), "columns = [\"id\"]\n").unwrap();
        let o = rampart(p, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("DATA-UNREAD"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!p.join("p.json").exists(), "no profile of part of a file");
}

#[test]
fn truncated_parquet_and_json_are_errors_not_text() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // A Parquet file cut short keeps its leading magic only.
    let mut pq = b"PAR1".to_vec();
    pq.extend(std::iter::repeat_n(7u8, 300));
    std::fs::write(p.join("cut.parquet"), &pq).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "cut.parquet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut.parquet"), "{}", stderr(&o));
    std::fs::write(
        p.join("cut.json"),
        "[{\"email\": \"a@example.com\"},\n {\"email\": \"b@exa",
    )
    .unwrap();
    let o = rampart(p, &["data", "pii", "scan", "cut.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
}

#[test]
fn the_pii_gate_fails_on_unread_records_and_admission_refuses() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(p, &["init"]).status.success());
    std::fs::write(p.join("train.csv"), cp1252_csv()).unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"train.csv\"]\n\n[admission]\nrequire = [\"pii\"]\n",
    )
    .unwrap();
    let o = rampart(p, &["run"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("DATA-UNREAD"), "{out}");
    let o = rampart(p, &["check", "train.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("REFUSED"));
    // The names rampart.toml uses are the names --require takes.
    let o = rampart(p, &["check", "train.csv", "--require", "pii"]);
    assert_eq!(o.status.code(), Some(1));
    let o = rampart(p, &["check", "train.csv", "--require", "pii-scan"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pii, risk"), "{}", stderr(&o));
}

#[test]
fn admission_judges_evidence_by_its_own_threshold() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(p, &["init"]).status.success());
    std::fs::create_dir(p.join("model")).unwrap();
    // A global outside the allowlist: a medium finding.
    std::fs::write(
        p.join("model/m.pkl"),
        b"\x80\x02cmypkg.layers\nCustom\nq\x00)\x81q\x01.",
    )
    .unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "fail_on = \"medium\"\n[admission]\nrequire = [\"scan\"]\n",
    )
    .unwrap();
    assert_eq!(rampart(p, &["scan", "model"]).status.code(), Some(1));
    // The laxer run passes by its own lights...
    assert_eq!(
        rampart(p, &["scan", "model", "--fail-on", "critical"])
            .status
            .code(),
        Some(0)
    );
    assert!(rampart(p, &["ledger", "checkpoint"]).status.success());
    // ...but not by admission's.
    let o = rampart(p, &["check", "model"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("1 medium") && out.contains("fail_on critical"),
        "{out}"
    );
    // Admission that accepts medium admits the same evidence.
    std::fs::write(
        p.join("rampart.toml"),
        "fail_on = \"medium\"\n[admission]\nrequire = [\"scan\"]\nfail_on = \"high\"\n",
    )
    .unwrap();
    let o = rampart(p, &["check", "model"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[cfg(unix)]
#[test]
fn a_hugging_face_cache_snapshot_is_scanned_through_its_links() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let evil = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/malicious/exec/os_system_protocol2.pkl"),
    )
    .unwrap();
    let repo = p.join("models--org--name");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/abc123")).unwrap();
    std::fs::write(repo.join("blobs/5d41402a"), &evil).unwrap();
    std::os::unix::fs::symlink(
        "../../blobs/5d41402a",
        repo.join("snapshots/abc123/pytorch_model.bin"),
    )
    .unwrap();
    // Before: SCAN-SYMLINK at info, exit 0.
    let o = rampart(
        p,
        &[
            "scan",
            "models--org--name/snapshots/abc123",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"PICKLE-EXEC"), "{rules:?}");
    let exec = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PICKLE-EXEC")
        .unwrap();
    assert!(
        exec["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("snapshots/abc123/pytorch_model.bin"),
        "{exec}"
    );
    // The same file copied out of the cache: its link leaves the folder.
    std::fs::create_dir(p.join("model")).unwrap();
    std::os::unix::fs::symlink(repo.join("blobs/5d41402a"), p.join("model/weights.bin")).unwrap();
    let o = rampart(p, &["scan", "model", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let link = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SCAN-SYMLINK")
        .unwrap();
    assert_eq!(link["severity"], "medium", "{link}");
}
