//! `rampart ledger` as a user runs it: init, append, checkpoint, verify,
//! and a row edited in the SQLite file behind the tool's back.

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
}

#[test]
fn a_missing_ledger_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let o = rampart(&["ledger", "show"], d.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("rampart ledger init"), "{}", text(&o));
}
