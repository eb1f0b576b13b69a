//! Crash safety: `rampart ledger append` killed with SIGKILL at random
//! points, many times. After each kill the ledger verifies, and every
//! entry whose index was printed (acknowledged) is there with its bytes.

#![cfg(test)]
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn rampart(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

#[test]
fn kill_9_during_appends_loses_no_acknowledged_entry() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    let mut acknowledged: Vec<(u64, Vec<u8>)> = Vec::new();
    // A simple deterministic generator for the kill delays.
    let mut seed = 0x9e3779b97f4a7c15u64;
    for round in 0..25u64 {
        let files: Vec<String> = (0..200)
            .map(|i| {
                let name = format!("r{round}-{i}.json");
                std::fs::write(p.join(&name), format!("{{\"round\": {round}, \"i\": {i}}}"))
                    .unwrap();
                name
            })
            .collect();
        let mut args = vec!["ledger", "append", "--one-by-one"];
        args.extend(files.iter().map(String::as_str));
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&args)
            .current_dir(p)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(2 + seed % 60);
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        for line in reader.join().unwrap() {
            let (idx, file) = line.split_once('\t').unwrap();
            acknowledged.push((idx.parse().unwrap(), std::fs::read(p.join(file)).unwrap()));
        }
        let v = rampart(&["ledger", "verify"], p);
        assert!(
            v.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
    }
    assert!(
        !acknowledged.is_empty(),
        "no append was acknowledged before the kills"
    );
    // The kills must land mid-stream for this test to mean anything.
    assert!(
        acknowledged.len() < 25 * 200,
        "every append finished before its kill"
    );
    eprintln!(
        "{} of {} appends acknowledged before the kills",
        acknowledged.len(),
        25 * 200
    );
    let db = rusqlite::Connection::open(p.join(".rampart/ledger.db")).unwrap();
    for (idx, data) in &acknowledged {
        let stored: Vec<u8> = db
            .query_row(
                "SELECT data FROM leaves WHERE idx = ?1",
                [*idx as i64],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("acknowledged entry {idx} is lost: {e}"));
        assert_eq!(&stored, data, "entry {idx}");
    }
    // Indexes are unique: no entry acknowledged twice.
    let mut idx: Vec<u64> = acknowledged.iter().map(|a| a.0).collect();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), acknowledged.len());
}

#[test]
fn concurrent_appenders_are_serialised() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    let files: Vec<Vec<String>> = (0..4)
        .map(|w| {
            (0..50)
                .map(|i| {
                    let name = format!("w{w}-{i}");
                    std::fs::write(p.join(&name), format!("writer {w} entry {i}")).unwrap();
                    name
                })
                .collect()
        })
        .collect();
    let children: Vec<_> = files
        .iter()
        .map(|names| {
            let mut args = vec!["ledger", "append", "--one-by-one"];
            args.extend(names.iter().map(String::as_str));
            Command::new(env!("CARGO_BIN_EXE_rampart"))
                .args(&args)
                .current_dir(p)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut indexes = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            indexes.push(line.split('\t').next().unwrap().parse::<u64>().unwrap());
        }
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..200).collect::<Vec<u64>>(), "every index once");
    let v = rampart(&["ledger", "verify"], p);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn a_truncated_database_is_an_error_not_ok() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    let names: Vec<String> = (0..300)
        .map(|i| {
            let n = format!("e{i}");
            std::fs::write(p.join(&n), vec![b'x'; 2000]).unwrap();
            n
        })
        .collect();
    let mut args = vec!["ledger", "append"];
    args.extend(names.iter().map(String::as_str));
    assert!(rampart(&args, p).status.success());
    // Fold the WAL into the main file, then cut the file in half.
    let db = p.join(".rampart/ledger.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let v = rampart(&["ledger", "verify"], p);
    assert_ne!(
        v.status.code(),
        Some(0),
        "a truncated ledger must not verify"
    );
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(err.contains("ledger"), "{err}");
}
