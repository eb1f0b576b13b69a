//! `rampart ledger` as a user runs it: init, append, checkpoint, verify,
//! and a row edited in the SQLite file behind the tool's back.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(cwd)
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

#[test]
fn a_ledger_from_init_to_tamper_detection() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let init = rampart(&["ledger", "init", "--origin", "example.com/log"], p);
    assert!(init.status.success(), "{}", text(&init));
    assert!(
        !rampart(&["ledger", "init"], p).status.success(),
        "init must not overwrite"
    );
    std::fs::write(p.join("a.json"), b"{\"gate\": \"scan\"}").unwrap();
    std::fs::write(p.join("b.json"), b"{\"gate\": \"sign\"}").unwrap();
    let app = rampart(&["ledger", "append", "a.json", "b.json"], p);
    assert_eq!(
        String::from_utf8_lossy(&app.stdout),
        "0\ta.json\n1\tb.json\n"
    );
    let cp = rampart(&["ledger", "checkpoint"], p);
    let note = String::from_utf8_lossy(&cp.stdout).to_string();
    assert!(note.starts_with("example.com/log\n2\n"), "{note}");
    assert!(note.contains("\n\n\u{2014} example.com/log "), "{note}");
    let ok = rampart(&["ledger", "verify"], p);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("2 entries, 1 checkpoints"),
        "{}",
        text(&ok)
    );

    std::fs::write(p.join("cp2"), &cp.stdout).unwrap();

    // Offline proofs, checked without the database.
    assert!(rampart(&["ledger", "proof", "1", "-o", "b.tlog-proof"], p)
        .status
        .success());
    let proof = std::fs::read_to_string(p.join("b.tlog-proof")).unwrap();
    assert!(
        proof.starts_with("c2sp.org/tlog-proof@v1\nindex 1\n"),
        "{proof}"
    );
    let good = rampart(
        &[
            "ledger",
            "verify-proof",
            "b.tlog-proof",
            "--entry",
            "b.json",
        ],
        p,
    );
    assert!(good.status.success(), "{}", text(&good));
    let wrong = rampart(
        &[
            "ledger",
            "verify-proof",
            "b.tlog-proof",
            "--entry",
            "a.json",
        ],
        p,
    );
    assert_eq!(wrong.status.code(), Some(1));

    // A later checkpoint extends this one.
    std::fs::write(p.join("c.json"), b"{}").unwrap();
    rampart(&["ledger", "append", "c.json"], p);
    std::fs::write(p.join("cp3"), rampart(&["ledger", "checkpoint"], p).stdout).unwrap();
    let cons = rampart(&["ledger", "consistency", "cp2", "cp3"], p);
    assert!(cons.status.success(), "{}", text(&cons));
    assert!(
        text(&cons).contains("checkpoint 3 extends checkpoint 2"),
        "{}",
        text(&cons)
    );

    let db = rusqlite::Connection::open(p.join(".rampart/ledger.db")).unwrap();
    db.execute("UPDATE leaves SET data = 'forged' WHERE idx = 0", [])
        .unwrap();
    drop(db);
    let bad = rampart(&["ledger", "verify"], p);
    assert_eq!(bad.status.code(), Some(1));
    let t = text(&bad);
    assert!(
        t.contains("entry 0") && t.contains("checkpoint 2") && t.contains("checkpoint 3"),
        "{t}"
    );

    // A deleted entry keeps the ledger from opening: verify names it as
    // tampering (exit 1), not as a broken command (exit 2).
    let db = rusqlite::Connection::open(p.join(".rampart/ledger.db")).unwrap();
    db.execute("DELETE FROM leaves WHERE idx = 1", []).unwrap();
    drop(db);
    let gone = rampart(&["ledger", "verify"], p);
    assert_eq!(gone.status.code(), Some(1), "{}", text(&gone));
    assert!(
        text(&gone).contains("TAMPERED: entry 1 is missing"),
        "{}",
        text(&gone)
    );
}

/// `rampart init` after `rampart ledger init` writes the policy and keeps
/// the ledger; a second `init` refuses to overwrite the policy.
#[test]
fn init_keeps_a_ledger_already_there() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    std::fs::write(p.join("a.json"), b"{}").unwrap();
    assert!(rampart(&["ledger", "append", "a.json"], p).status.success());
    let init = rampart(&["init"], p);
    assert!(init.status.success(), "{}", text(&init));
    assert!(
        text(&init).contains("kept the ledger already there"),
        "{}",
        text(&init)
    );
    assert!(p.join("rampart.toml").is_file());
    let show = rampart(&["ledger", "show"], p);
    assert!(text(&show).contains("size 1"), "{}", text(&show));
    let again = rampart(&["init"], p);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again).contains("rampart.toml exists"),
        "{}",
        text(&again)
    );
}

#[test]
fn a_missing_ledger_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let o = rampart(&["ledger", "show"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("rampart ledger init"), "{}", text(&o));
    let o = rampart(&["evidence", "."], d.path());
    assert!(text(&o).contains("no ledger in .rampart"), "{}", text(&o));
    // An index past the end is named as such, not as a missing checkpoint.
    assert!(rampart(&["ledger", "init"], d.path()).status.success());
    assert!(rampart(&["ledger", "checkpoint"], d.path())
        .status
        .success());
    let o = rampart(&["ledger", "proof", "9999"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no entry 9999"), "{}", text(&o));
}

#[test]
fn gate_runs_are_attested_and_evidence_lists_them() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    std::fs::create_dir_all(p.join("model")).unwrap();
    std::fs::write(p.join("model/config.json"), b"{}").unwrap();
    std::fs::write(p.join("bad.pkl"), b"cos\nsystem\n(S'echo'\ntR.").unwrap();
    let good = rampart(&["scan", "-q", "model"], p);
    assert!(good.status.success(), "{}", text(&good));
    assert!(
        text(&good).contains("attestation: entry 0"),
        "{}",
        text(&good)
    );
    let bad = rampart(&["scan", "-q", "bad.pkl"], p);
    assert_eq!(bad.status.code(), Some(1));
    assert!(rampart(&["keygen", "k"], p).status.success());
    assert!(rampart(&["sign", "model", "--key", "k.key"], p)
        .status
        .success());
    assert!(rampart(&["ledger", "checkpoint"], p).status.success());

    let ev = rampart(&["evidence", "model", "--format", "json"], p);
    assert!(ev.status.success(), "{}", text(&ev));
    let v: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    let gates: Vec<(&str, bool, bool, bool)> = v["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["gate"].as_str().unwrap(),
                a["passed"].as_bool().unwrap(),
                a["signature_verified"].as_bool().unwrap(),
                a["in_checkpoint"].as_bool().unwrap(),
            )
        })
        .collect();
    // The folder has one digest before and after model.sig is written.
    assert_eq!(
        gates,
        vec![("scan", true, true, true), ("sign", true, true, true)]
    );
    let ev = rampart(&["evidence", "bad.pkl", "--format", "json"], p);
    let v: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    assert_eq!(v["attestations"][0]["passed"], false);

    // A forged attestation (signed by another key) is found and refused.
    let db = rusqlite::Connection::open(p.join(".rampart/ledger.db")).unwrap();
    let entry: Vec<u8> = db
        .query_row("SELECT data FROM leaves WHERE idx = 1", [], |r| r.get(0))
        .unwrap();
    let mut env: serde_json::Value = serde_json::from_slice(&entry).unwrap();
    let sig = env["signatures"][0]["sig"].as_str().unwrap().to_string();
    let mid = sig.len() / 2;
    let flipped = if &sig[mid..mid + 1] == "A" { "B" } else { "A" };
    env["signatures"][0]["sig"] =
        serde_json::json!(format!("{}{flipped}{}", &sig[..mid], &sig[mid + 1..]));
    let forged = serde_json::to_vec(&env).unwrap();
    let count: i64 = db
        .query_row("SELECT COUNT(*) FROM leaves", [], |r| r.get(0))
        .unwrap();
    let h = {
        use sha2::Digest;
        let mut s = sha2::Sha256::new();
        s.update([0u8]);
        s.update(&forged);
        s.finalize().to_vec()
    };
    db.execute(
        "INSERT INTO leaves (idx, data, hash, time) VALUES (?1, ?2, ?3, 0)",
        rusqlite::params![count, forged, h],
    )
    .unwrap();
    drop(db);
    let ev = rampart(&["evidence", "bad.pkl"], p);
    assert_eq!(ev.status.code(), Some(1), "{}", text(&ev));
    assert!(text(&ev).contains("signature BAD"), "{}", text(&ev));
}

/// `ledger show N` prints the entry's bytes exactly: what it printed is
/// what `verify-proof --entry` checks.
#[test]
fn a_shown_entry_verifies_against_its_proof() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    std::fs::write(p.join("e.json"), b"{\"gate\":\"x\"}").unwrap();
    assert!(rampart(&["ledger", "append", "e.json"], p).status.success());
    assert!(rampart(&["ledger", "checkpoint"], p).status.success());
    let shown = rampart(&["ledger", "show", "0"], p);
    assert_eq!(shown.stdout, b"{\"gate\":\"x\"}");
    std::fs::write(p.join("shown.json"), &shown.stdout).unwrap();
    assert!(rampart(&["ledger", "proof", "0", "-o", "p.txt"], p)
        .status
        .success());
    let o = rampart(
        &["ledger", "verify-proof", "p.txt", "--entry", "shown.json"],
        p,
    );
    assert!(o.status.success(), "{}", text(&o));
}
