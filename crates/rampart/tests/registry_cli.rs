//! `rampart registry` as a user runs it: the README's worked example,
//! exit codes, two promotions racing from two processes, and SIGKILL at
//! any point leaving the store and the ledger consistent.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
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

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = rampart(dir, args);
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    text(&o)
}

fn refused(dir: &Path, args: &[&str]) -> String {
    let o = rampart(dir, args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
    text(&o)
}

const RULES: &str = r#"
[registry.alias.staging]

[registry.alias.production]
require = ["scan"]
approvals = 2
approvers = ["alice.pub", "bob.pub", "carol.pub"]
"#;

/// A project with three keys, the rules above and a model folder.
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init"]);
    for k in ["alice", "bob", "carol"] {
        ok(p, &["keygen", k, "--algorithm", "ed25519"]);
    }
    let policy = std::fs::read_to_string(p.join("rampart.toml")).unwrap();
    std::fs::write(p.join("rampart.toml"), policy + RULES).unwrap();
    std::fs::create_dir(p.join("model")).unwrap();
    std::fs::write(p.join("model/weights.bin"), b"weights v1").unwrap();
    d
}

/// The README's example: registration, a promotion refused for missing
/// evidence and approvals, the gate run, approvals (the author's refused),
/// promotion, rollback, history, and the store checked against the
/// ledger.
#[test]
fn register_approve_promote_and_roll_back() {
    let d = project();
    let p = d.path();
    let reg = ok(
        p,
        &[
            "registry",
            "register",
            "fraud",
            "model",
            "--key",
            "alice.key",
            "--meta",
            "commit=3f2a",
        ],
    );
    assert!(reg.starts_with("fraud@1  sha256 "), "{reg}");
    let again = ok(p, &["registry", "register", "fraud", "model"]);
    assert!(
        again.contains("fraud@1") && again.contains("registered already"),
        "{again}"
    );

    let why = refused(p, &["registry", "promote", "fraud@1", "--to", "production"]);
    assert!(
        why.contains("no scan attestation") && why.contains("has 0"),
        "{why}"
    );
    ok(p, &["scan", "model"]);
    ok(p, &["ledger", "checkpoint"]);
    let author = refused(
        p,
        &[
            "registry",
            "approve",
            "fraud@1",
            "--alias",
            "production",
            "--key",
            "alice.key",
        ],
    );
    assert!(
        author.contains("the author of a version cannot approve it"),
        "{author}"
    );
    ok(
        p,
        &[
            "registry",
            "approve",
            "fraud@1",
            "--alias",
            "production",
            "--key",
            "bob.key",
        ],
    );
    ok(
        p,
        &[
            "registry",
            "approve",
            "fraud@1",
            "--alias",
            "production",
            "--key",
            "carol.key",
        ],
    );
    let done = ok(p, &["registry", "promote", "fraud@1", "--to", "production"]);
    assert!(done.contains("promote fraud@1 to production"), "{done}");

    // A second version through staging, then rolled back.
    std::fs::write(p.join("model/weights.bin"), b"weights v2").unwrap();
    ok(
        p,
        &[
            "registry",
            "register",
            "fraud",
            "model",
            "--key",
            "alice.key",
        ],
    );
    ok(p, &["registry", "promote", "fraud@1", "--to", "staging"]);
    ok(p, &["registry", "promote", "fraud@2", "--to", "staging"]);
    let back = ok(
        p,
        &[
            "registry",
            "rollback",
            "fraud",
            "--alias",
            "staging",
            "--reason",
            "canary errors",
        ],
    );
    assert!(
        back.contains("rollback staging to fraud@1 (was 2)"),
        "{back}"
    );

    // production's bytes changed on disk: resolving it refuses them.
    let changed = refused(p, &["registry", "resolve", "fraud", "production"]);
    assert!(changed.contains("are not the registered ones"), "{changed}");

    let o = rampart(p, &["registry", "history", "fraud", "--json"]);
    let events: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "register", "approve", "approve", "promote", "register", "promote", "promote",
            "rollback"
        ]
    );
    // Every event is an attestation about the version's digest.
    let ev = ok(p, &["evidence", "model"]);
    assert!(
        ev.contains("registry-register") && ev.contains("registry-promote"),
        "{ev}"
    );

    ok(p, &["registry", "verify"]);
    let db = rusqlite::Connection::open(p.join(".rampart/registry.db")).unwrap();
    db.execute(
        "UPDATE aliases SET version = 2 WHERE alias = 'production'",
        [],
    )
    .unwrap();
    drop(db);
    let served = rampart(p, &["registry", "resolve", "fraud", "production"]);
    assert_eq!(
        served.status.code(),
        Some(2),
        "an edited alias is not served: {}",
        text(&served)
    );
    assert!(
        text(&served).contains("not the ledger's last move"),
        "{}",
        text(&served)
    );
    let bad = refused(p, &["registry", "verify"]);
    assert!(bad.contains("MISMATCH: aliases (model, alias) = (\"fraud\", \"production\"): version is 2 in the store, 1 in the ledger"), "{bad}");
    ok(p, &["registry", "rebuild"]);
    ok(p, &["registry", "verify"]);
}

#[test]
fn bad_names_and_missing_things_are_errors_that_say_what_to_do() {
    let d = project();
    let p = d.path();
    for (args, says) in [
        (
            vec!["registry", "register", "../x", "model"],
            "is not a valid name",
        ),
        (
            vec!["registry", "promote", "fraud", "--to", "staging"],
            "MODEL@VERSION",
        ),
        (
            vec!["registry", "promote", "fraud@0", "--to", "staging"],
            "a number from 1",
        ),
        (
            vec!["registry", "show", "fraud@1"],
            "no model fraud in the registry",
        ),
        (vec!["registry", "register", "fraud", "nope"], "nope"),
        (
            vec![
                "registry", "register", "fraud", "model", "--meta", "novalue",
            ],
            "is not KEY=VALUE",
        ),
        (
            vec![
                "registry", "register", "fraud", "model", "--meta", "who=eve",
            ],
            "recorded from $USER",
        ),
        (
            vec!["registry", "register", "fraud", "."],
            "holds the project's",
        ),
        (vec!["registry", "history", "nope"], "no model nope"),
        (vec!["registry", "show", "fraud@01"], "a number from 1"),
        (
            vec!["registry", "list", "--store", "mysql://x/db"],
            "a store is a SQLite file",
        ),
    ] {
        let o = rampart(p, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
    ok(p, &["registry", "register", "fraud", "model"]);
    let why = refused(p, &["registry", "promote", "fraud@1", "--to", "canary"]);
    assert!(why.contains("no [registry.alias.canary] rule"), "{why}");
    let why = refused(p, &["registry", "delete", "fraud@1", "--reason", "space"]);
    assert!(why.contains("never deleted"), "{why}");
}

/// Two processes promote different versions over the same expected
/// state at once: one wins, the other is refused naming the winner.
#[test]
fn two_processes_promoting_at_once_one_wins() {
    let d = project();
    let p = d.path();
    for i in 1..=3 {
        std::fs::write(p.join("model/weights.bin"), format!("weights {i}")).unwrap();
        ok(p, &["registry", "register", "fraud", "model"]);
    }
    ok(p, &["registry", "promote", "fraud@1", "--to", "staging"]);
    let spawn = |v: &str| {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args([
                "registry",
                "promote",
                v,
                "--to",
                "staging",
                "--expect-current",
                "1",
            ])
            .current_dir(p)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("fraud@2"), spawn("fraud@3"));
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}"
    );
    let winner = if codes[0] == Some(0) {
        "fraud@2"
    } else {
        "fraud@3"
    };
    let loser = outs.iter().find(|o| o.status.code() == Some(1)).unwrap();
    assert!(
        text(loser).contains(&format!("points at {winner}")),
        "{}",
        text(loser)
    );
    ok(p, &["registry", "verify"]);
}

/// Registry commands killed (SIGKILL) at arbitrary moments leave the
/// store consistent with the ledger, and the ledger intact.
#[test]
fn sigkill_at_any_point_leaves_store_and_ledger_consistent() {
    let d = project();
    let p = d.path();
    for i in 1..=2 {
        std::fs::write(p.join("model/weights.bin"), format!("weights {i}")).unwrap();
        ok(p, &["registry", "register", "fraud", "model"]);
    }
    let mut killed = 0;
    for i in 0..24u64 {
        let v = if i % 2 == 0 { "fraud@1" } else { "fraud@2" };
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["registry", "promote", v, "--to", "staging"])
            .current_dir(p)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From at once to well after the work is done: every stage of a
        // promotion is hit over the runs.
        std::thread::sleep(std::time::Duration::from_millis((i * 7) % 60));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed > 0, "no run was killed mid-way");
    let v = rampart(p, &["registry", "verify"]);
    assert!(v.status.success(), "{}", text(&v));
    let l = rampart(p, &["ledger", "verify"]);
    assert!(l.status.success(), "{}", text(&l));
    // And the registry still works.
    let h = ok(p, &["registry", "history", "fraud"]);
    assert!(h.contains("register fraud@2"), "{h}");
}

/// Without --expect-current, a promotion expects the alias where it was
/// when the command began, even while another writer holds the store:
/// two promotions started together, one wins, the other names it.
#[test]
fn promotions_started_together_expect_the_alias_as_they_began() {
    let d = project();
    let p = d.path();
    for i in 1..=3 {
        std::fs::write(p.join("model/weights.bin"), format!("weights {i}")).unwrap();
        ok(p, &["registry", "register", "fraud", "model"]);
    }
    ok(p, &["registry", "promote", "fraud@1", "--to", "staging"]);
    // Another writer holds the store while both commands begin.
    let mut db = rusqlite::Connection::open(p.join(".rampart/registry.db")).unwrap();
    let held = db
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let spawn = |v: &str| {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["registry", "promote", v, "--to", "staging"])
            .current_dir(p)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("fraud@2"), spawn("fraud@3"));
    std::thread::sleep(std::time::Duration::from_millis(700));
    held.commit().unwrap();
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}: {}{}",
        text(&outs[0]),
        text(&outs[1])
    );
    let winner = if codes[0] == Some(0) {
        "fraud@2"
    } else {
        "fraud@3"
    };
    let loser = outs.iter().find(|o| o.status.code() == Some(1)).unwrap();
    assert!(
        text(loser).contains(&format!("moved to {winner}")),
        "{}",
        text(loser)
    );
}
