//! `rampart data pii scan` as a user runs it.

#![cfg(test)]

use std::process::Command;

#[test]
fn finds_masks_and_fails_on_pii_and_passes_clean_text() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("people.csv"),
        "name,email,card,ssn\nJane,jane.doe@example.com,5555 5555 5555 4444,078-05-1120\nBob,none,1234,n/a\n",
    )
    .unwrap();
    std::fs::write(
        p.join("clean.txt"),
        "nothing personal here\n4111 1111 1111 1112 fails Luhn\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .current_dir(p)
            .output()
            .unwrap()
    };
    let o = run(&["data", "pii", "scan", "people.csv", "--json"]);
    let v = findings_json(&o);
    assert_eq!(v["counts"]["EMAIL_ADDRESS"], 1);
    assert_eq!(v["counts"]["CREDIT_CARD"], 1);
    assert_eq!(v["counts"]["US_SSN"], 1);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("5555 5555 5555 4444") && text.contains("4444"),
        "values are masked: {text}"
    );
    assert_eq!(v["matches"][0]["line"], 2);
    let clean = run(&["data", "pii", "scan", "clean.txt"]);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
}

fn rampart(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Temporary files (`.rampart-*.partial`) left in a folder.
/// The JSON output of a run that found something (exit 1).
fn findings_json(o: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn partial_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")
        })
        .count()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PEOPLE: &str = "id,name,email,dob,card,notes\n\
1,Mary Johnson,mary@example.com,1985-03-12,4111 1111 1111 1111,call 020 7946 0958\n\
2,Rahul Sharma,rahul@example.in,12/03/1990,5555555555554444,SSN 078-05-1120\n";

#[test]
fn mask_applies_the_policy_keeps_the_format_and_unmask_reverses_tokens() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("people.csv"), PEOPLE).unwrap();
    std::fs::write(
        p.join("mask.toml"),
        "default = \"replace\"\n[entities]\nEMAIL_ADDRESS = \"hmac\"\nPHONE_NUMBER = { action = \"mask\", keep = 4 }\n\
         [columns]\nid = \"keep\"\nname = \"siv\"\ndob = { action = \"generalise\", to = \"year\" }\ncard = \"ff1\"\n",
    )
    .unwrap();
    // Keyed actions without a key: a clear error, no output.
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "people.csv",
            "out.csv",
            "--policy",
            "mask.toml",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("need a key"));
    assert!(!p.join("out.csv").exists());
    assert!(rampart(p, &["data", "pii", "keygen", "k.key"], &[])
        .status
        .success());
    assert!(
        !rampart(p, &["data", "pii", "keygen", "k.key"], &[])
            .status
            .success(),
        "never overwrites"
    );
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "people.csv",
            "out.csv",
            "--policy",
            "mask.toml",
            "--key",
            "k.key",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = std::fs::read_to_string(p.join("out.csv")).unwrap();
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["id", "name", "email", "dob", "card", "notes"]);
    assert_eq!(rows[1][0], "1");
    assert!(rows[1][1].starts_with("siv:"));
    assert_eq!(rows[1][2].len(), 20, "an HMAC pseudonym");
    assert_eq!((rows[1][3], rows[2][3]), ("1985", "1990"));
    assert_eq!(rows[1][4].len(), "4111 1111 1111 1111".len());
    assert_ne!(rows[1][4], "4111 1111 1111 1111");
    assert_eq!(rows[1][5], "call *** **** 0958");
    assert_eq!(rows[2][5], "SSN <US_SSN>");
    for secret in [
        "Mary",
        "mary@example.com",
        "078-05-1120",
        "1985-03-12",
        "4111 1111",
    ] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    // The same key gives the same pseudonyms; another key different ones.
    let again = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "people.csv",
            "out2.csv",
            "--policy",
            "mask.toml",
            "--key",
            "k.key",
        ],
        &[],
    );
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(p.join("out2.csv")).unwrap(), out);
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "unmask",
            "out.csv",
            "back.csv",
            "--policy",
            "mask.toml",
            "--key",
            "k.key",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let back = std::fs::read_to_string(p.join("back.csv")).unwrap();
    assert!(
        back.contains("1,Mary Johnson,") && back.contains("4111 1111 1111 1111"),
        "{back}"
    );
    let none = partial_files(p);
    assert_eq!(none, 0, "no temporary files left");
}

#[test]
fn bad_rows_are_skipped_with_their_line_or_fail_and_leave_no_output() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("bad.csv"),
        "a,b\n1,x@example.com\n2,3,4\n\"unclosed,5\n",
    )
    .unwrap();
    let o = rampart(
        p,
        &["data", "pii", "scan", "bad.csv", "--bad-input", "skip"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.csv:3: 3 fields where the header has 2"),
        "{err}"
    );
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "bad.csv",
            "out.csv",
            "--bad-input",
            "fail",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(":3:"));
    assert!(!p.join("out.csv").exists(), "a failed run leaves no output");
    let o = rampart(
        p,
        &["data", "pii", "scan", "bad.csv", "--max-bytes", "10"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("more than 10 bytes") && err.matches("more than").count() == 1,
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(p).unwrap().count(),
        1,
        "nor temporary files"
    );
}

/// Exit 1 below k (the report as JSON), 0 at or above it, 2 for a column
/// that is not there. The measure itself is tested in rampart-dataset.
#[test]
fn risk_exit_codes_follow_k_and_name_a_missing_column() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("d.csv"), "age,zip\n30,94107\n30,94107\n71,10001\n").unwrap();
    let args = ["data", "risk", "d.csv", "--quasi", "age,zip", "--json"];
    let v = findings_json(&rampart(p, &args, &[]));
    assert_eq!((v["k"].as_u64(), v["min_k"].as_u64()), (Some(1), Some(5)));
    let o = rampart(
        p,
        &["data", "risk", "d.csv", "--quasi", "zip", "--k", "1"],
        &[],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    let o = rampart(
        p,
        &["data", "risk", "d.csv", "--quasi", "zip", "--k", "0"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "k 0 would pass anything");
    let o = rampart(p, &["data", "risk", "d.csv", "--quasi", "postcode"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--quasi \"postcode\": no such column"));
}

#[test]
fn data_gates_record_attestations_in_the_ledger() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(p, &["init"], &[]).status.success());
    std::fs::write(p.join("people.csv"), PEOPLE).unwrap();
    let o = rampart(p, &["data", "pii", "mask", "people.csv", "out.csv"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attestation: entry"));
    let o = rampart(p, &["evidence", "out.csv", "--format", "json"], &[]);
    assert!(
        stdout(&o).contains("\"gate\": \"pii-mask\""),
        "{}",
        stdout(&o)
    );
    let envelope: serde_json::Value =
        serde_json::from_slice(&rampart(p, &["ledger", "show", "0"], &[]).stdout).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(payload).unwrap();
    assert!(
        text.contains("entity:EMAIL_ADDRESS") && text.contains("\"records\": 2"),
        "{text}"
    );
    assert!(
        !text.contains("mary@example.com"),
        "values never reach the ledger"
    );

    // Records that cannot be read fail the gate (exit 1) and are attested
    // as a failure, as the pipeline attests them.
    std::fs::write(p.join("stray.csv"), "id,name\n1,\"Ann\n").unwrap();
    let o = rampart(p, &["data", "pii", "scan", "stray.csv"], &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = rampart(p, &["evidence", "stray.csv", "--format", "json"], &[]);
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &ev["attestations"][0];
    assert_eq!(
        (a["gate"].as_str(), a["passed"].as_bool()),
        (Some("pii-scan"), Some(false)),
        "{ev}"
    );
}

/// A ledger that cannot record (`--ledger` of a folder without one) stops
/// a data command before it reads or writes anything: one error, one
/// JSON document, no output file.
#[test]
fn a_ledger_that_cannot_record_stops_the_run_first() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("people.csv"), PEOPLE).unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "scan",
            "people.csv",
            "--json",
            "--ledger",
            "nowhere",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let docs = serde_json::Deserializer::from_slice(&o.stdout)
        .into_iter::<serde_json::Value>()
        .count();
    assert_eq!(docs, 1, "{}", stdout(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ledger in nowhere"));
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "people.csv",
            "out.csv",
            "--ledger",
            "nowhere",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!p.join("out.csv").exists());
    assert_eq!(partial_files(p), 0);
}

/// `profile` writes a profile, `--merge` merges profiles into one, and a
/// dataset given to `--merge` is a usage error (exit 2). Merging itself
/// is tested in rampart-dataset.
#[test]
fn profile_writes_and_merge_combines_profiles() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("a.csv"), "id,city\n1,Paris\n2,Lyon\n").unwrap();
    std::fs::write(p.join("b.csv"), "id,city\n3,Nice\n").unwrap();
    for (input, out) in [("a.csv", "a.json"), ("b.csv", "b.json")] {
        let o = rampart(p, &["data", "profile", input, "-o", out], &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let args = [
        "data", "profile", "--merge", "a.json", "b.json", "-o", "m.json",
    ];
    let o = rampart(p, &args, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("m.json")).unwrap()).unwrap();
    assert_eq!(
        (m["rows"].as_u64(), m["sources"].as_array().map(Vec::len)),
        (Some(3), Some(2))
    );
    let o = rampart(
        p,
        &["data", "profile", "--merge", "a.csv", "-o", "x.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "a dataset is not a profile");
    assert!(!p.join("x.json").exists());
}

/// `rampart run 2>&1 | head` closes stderr as well: a message written
/// there must not become a panic (exit 101).
#[test]
fn a_closed_stderr_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "no-such-model.pt"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(writer))
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(141));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let d = tempfile::tempdir().unwrap();
    let text: String = (0..20_000)
        .map(|i| format!("mail user{i}@example.com\n"))
        .collect();
    std::fs::write(d.path().join("t.txt"), text).unwrap();
    // As text and as JSON (a write error of the JSON serialiser).
    for json in [false, true] {
        let mut args = vec!["data", "pii", "scan", "t.txt", "--max-matches", "0"];
        if json {
            args.push("--json");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&args)
            .current_dir(d.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is gone (stdout dropped above).
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(141), "json {json}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{err}"
        );
    }
}

/// `suggest` writes expectations once (never over a file), `validate`
/// exits 0 on the data they came from and 1 with the failures as JSON on
/// changed data. What is suggested and checked is tested in
/// rampart-dataset.
#[test]
fn suggest_then_validate_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let csv: String = std::iter::once("id,city\n".to_string())
        .chain((0..50).map(|i| format!("{i},{}\n", ["Paris", "Lyon"][i % 2])))
        .collect();
    std::fs::write(p.join("train.csv"), &csv).unwrap();
    let o = rampart(p, &["data", "suggest", "train.csv", "-o", "e.toml"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = rampart(p, &["data", "suggest", "train.csv", "-o", "e.toml"], &[]);
    assert_eq!(again.status.code(), Some(2), "never overwrites");
    // Suggestions are not evidence: a --ledger would be ignored, so it is
    // refused, not silently dropped.
    let args = [
        "data",
        "suggest",
        "train.csv",
        "-o",
        "f.toml",
        "--ledger",
        "x",
    ];
    let o = rampart(p, &args, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("records nothing"));
    assert!(!p.join("f.toml").exists());
    let o = rampart(
        p,
        &["data", "validate", "train.csv", "--expect", "e.toml"],
        &[],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    std::fs::write(p.join("new.csv"), csv.replacen("3,Lyon", "3,Rome", 1)).unwrap();
    let args = [
        "data", "validate", "new.csv", "--expect", "e.toml", "--json",
    ];
    let v = findings_json(&rampart(p, &args, &[]));
    let failure = &v["failures"][0];
    assert_eq!(
        (failure["column"].as_str(), &failure["rows"][0]),
        (Some("city"), &serde_json::json!([5, "Rome"]))
    );
}

#[test]
fn poison_reports_duplicates_conflicts_and_leaks_by_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("eval.csv"),
        "a,b,y\n1,x,0\n1, X,0\n2,x,0\n2,x,1\n9,z,0\n3,q,1\n",
    )
    .unwrap();
    std::fs::write(p.join("train.csv"), "a,b,y\n9,z,1\n").unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "poison",
            "eval.csv",
            "--label",
            "y",
            "--leak-from",
            "train.csv",
            "--json",
        ],
        &[],
    );
    let v = findings_json(&o);
    let found: Vec<(String, serde_json::Value)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["rows"].clone()))
        .collect();
    assert!(
        found.contains(&("duplicate".into(), serde_json::json!([2, 3]))),
        "{found:?}"
    );
    assert!(
        found.contains(&("conflicting-labels".into(), serde_json::json!([4, 5]))),
        "{found:?}"
    );
    assert!(
        found.contains(&("leak".into(), serde_json::json!([6]))),
        "{found:?}"
    );
    assert_eq!(found.len(), 3);
    std::fs::write(p.join("clean.csv"), "a,y\n1,0\n2,1\n").unwrap();
    assert!(
        rampart(p, &["data", "poison", "clean.csv", "--label", "y"], &[])
            .status
            .success()
    );

    // The report drives the filter: the second copy of the duplicate, both
    // rows whose labels conflict and the leaked row go; the rest stays,
    // in order and in the same format.
    std::fs::write(p.join("report.json"), &o.stdout).unwrap();
    let f = rampart(
        p,
        &[
            "data",
            "filter",
            "eval.csv",
            "out.csv",
            "--drop-findings",
            "report.json",
            "--json",
        ],
        &[],
    );
    assert!(f.status.success(), "{}", String::from_utf8_lossy(&f.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&f.stdout).unwrap();
    assert_eq!(
        (summary["rows"].as_u64(), summary["dropped"].as_u64()),
        (Some(6), Some(4))
    );
    assert_eq!(
        std::fs::read_to_string(p.join("out.csv")).unwrap(),
        "a,b,y\n1,x,0\n3,q,1\n"
    );
    // Only some kinds.
    let f = rampart(
        p,
        &[
            "data",
            "filter",
            "eval.csv",
            "dups.csv",
            "--drop-findings",
            "report.json",
            "--kinds",
            "duplicate",
        ],
        &[],
    );
    assert!(f.status.success());
    assert_eq!(
        std::fs::read_to_string(p.join("dups.csv")).unwrap(),
        "a,b,y\n1,x,0\n2,x,0\n2,x,1\n9,z,0\n3,q,1\n"
    );
    // A report of another file is refused, naming both digests, and
    // nothing is written.
    std::fs::write(p.join("eval.csv"), "a,b,y\n1,x,0\n").unwrap();
    let f = rampart(
        p,
        &[
            "data",
            "filter",
            "eval.csv",
            "stale.csv",
            "--drop-findings",
            "report.json",
        ],
        &[],
    );
    assert_eq!(
        f.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&f.stderr)
    );
    let err = String::from_utf8_lossy(&f.stderr);
    assert!(
        err.contains("was made for a file with SHA-256") && err.contains("poison eval.csv --json"),
        "{err}"
    );
    assert!(!p.join("stale.csv").exists());
    assert_eq!(partial_files(p), 0);
}

/// Uniform numbers in [0, 1) from a seeded LCG (Knuth's MMIX constants):
/// test data that is the same on every run.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The first finding of `kind` in a poison report.
fn finding<'a>(report: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} finding in {report}"))
}

/// A CSV of `n` rows: `x` roughly normal (sum of three uniforms) plus
/// `shift`, `city` from four values with Paris at share `paris`, `id`
/// unique, and an occasional NaN in `x`.
fn drift_csv(n: u32, seed: u64, shift: f64, paris: f64) -> String {
    let mut next = uniform(seed);
    let mut out = String::from("id,x,city\n");
    for i in 0..n {
        let x = next() + next() + next() - 1.5 + shift;
        let city = if next() < paris {
            "Paris"
        } else {
            ["Lyon", "Nice", "Lille"][(next() * 3.0) as usize % 3]
        };
        let x = if i % 500 == 7 {
            "NaN".to_string()
        } else {
            format!("{x:.5}")
        };
        out.push_str(&format!("{i},{x},{city}\n"));
    }
    out
}

#[test]
fn drift_names_schema_changes_and_refuses_empty_data() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("ref.csv"), drift_csv(200, 1, 0.0, 0.3)).unwrap();
    let fewer: String = drift_csv(200, 2, 0.0, 0.3)
        .lines()
        .map(|l| {
            format!(
                "{},{}\n",
                l.split(',').next().unwrap(),
                l.split(',').nth(1).unwrap()
            )
        })
        .collect();
    std::fs::write(p.join("fewer.csv"), fewer).unwrap();
    let o = rampart(p, &["data", "drift", "ref.csv", "fewer.csv"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("schema: missing from the current data: city"),
        "{}",
        stdout(&o)
    );

    std::fs::write(p.join("empty.csv"), "id,x,city\n").unwrap();
    let o = rampart(p, &["data", "drift", "ref.csv", "empty.csv"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("empty.csv: no records"), "{err}");

    // Recorded in the ledger when there is one.
    assert!(rampart(p, &["init"], &[]).status.success());
    let o = rampart(p, &["data", "drift", "ref.csv", "ref.csv"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attestation: entry"));
}

/// `--pred-probs` reaches the label-issue check, its findings drop
/// through `filter --kinds label-issue`, and probabilities for another
/// number of rows are a usage error (exit 2). The check itself, with the
/// built-in model, is tested in rampart-dataset.
#[test]
fn label_issue_flags_reach_the_check_and_the_filter() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let names = ["cat", "dog", "owl"];
    let mut small = String::from("x,y\n");
    let mut probs = String::from("cat,dog,owl\n");
    for i in 0..30 {
        small.push_str(&format!("{i},{}\n", names[i % 3]));
        let mut row = [0.1, 0.1, 0.1];
        row[i % 3] = 0.8;
        if i == 9 {
            row = [0.05, 0.05, 0.9];
        }
        probs.push_str(&format!("{},{},{}\n", row[0], row[1], row[2]));
    }
    std::fs::write(p.join("small.csv"), &small).unwrap();
    std::fs::write(p.join("probs.csv"), &probs).unwrap();
    let args = [
        "data",
        "poison",
        "small.csv",
        "--label",
        "y",
        "--pred-probs",
        "probs.csv",
        "--json",
    ];
    let o = rampart(p, &args, &[]);
    let r = findings_json(&o);
    assert_eq!(finding(&r, "label-issue")["drop"], serde_json::json!([10]));
    std::fs::write(p.join("report.json"), &o.stdout).unwrap();
    let args = [
        "data",
        "filter",
        "small.csv",
        "clean.csv",
        "--drop-findings",
        "report.json",
        "--kinds",
        "label-issue",
    ];
    let o = rampart(p, &args, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept = std::fs::read_to_string(p.join("clean.csv")).unwrap();
    assert_eq!(kept.lines().count(), 30, "29 rows and the header");
    assert!(!kept.contains("\n9,cat\n"));

    std::fs::write(p.join("short.csv"), "cat,dog,owl\n0.8,0.1,0.1\n").unwrap();
    let args = [
        "data",
        "poison",
        "small.csv",
        "--label",
        "y",
        "--pred-probs",
        "short.csv",
    ];
    let o = rampart(p, &args, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must match one to one"));
}
