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
fn tables_are_classified_by_column() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("people.csv"), PEOPLE).unwrap();
    let o = rampart(
        d.path(),
        &["data", "pii", "scan", "people.csv", "--json"],
        &[],
    );
    let v = findings_json(&o);
    let cols: Vec<(String, String)> = v["files"][0]["pii_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["column"].as_str().unwrap().into(),
                c["entity"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("name", "PERSON"),
        ("email", "EMAIL_ADDRESS"),
        ("dob", "DATE_OF_BIRTH"),
        ("card", "CREDIT_CARD"),
    ] {
        assert!(
            cols.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {cols:?}"
        );
    }
    assert!(!cols.iter().any(|(c, _)| c == "id"), "{cols:?}");
    assert_eq!(v["files"][0]["format"], "csv");
    assert!(
        !stdout(&o).contains("mary@example.com"),
        "examples are masked"
    );
}

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

#[test]
fn risk_measures_k_and_l_and_fails_below_the_minimum() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("age,zip,sex,diagnosis\n");
    for i in 0..6 {
        csv.push_str(&format!("30,94107,F,{}\n", ["flu", "cold"][i % 2]));
    }
    csv.push_str("71,10001,M,gout\n");
    std::fs::write(p.join("d.csv"), &csv).unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "risk",
            "d.csv",
            "--quasi",
            "age,zip,sex",
            "--sensitive",
            "diagnosis",
            "--k",
            "5",
            "--json",
        ],
        &[],
    );
    let v = findings_json(&o);
    assert_eq!(
        (
            v["k"].as_u64(),
            v["classes"].as_u64(),
            v["rows_below_k"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(v["rows_at_risk"], serde_json::json!([8]));
    assert_eq!(v["l"], 1);
    let o = rampart(
        p,
        &["data", "risk", "d.csv", "--quasi", "zip", "--k", "1"],
        &[],
    );
    assert!(o.status.success(), "{}", stdout(&o));
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
}

#[test]
fn profiles_of_shards_merge_into_the_profile_of_the_whole() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut whole = String::from("id,age,city\n");
    let (mut a, mut b) = (whole.clone(), whole.clone());
    for i in 0..2000 {
        let row = format!("{i},{},{}\n", 18 + i % 70, ["Paris", "Lyon", ""][i % 3]);
        whole.push_str(&row);
        if i < 700 {
            a.push_str(&row)
        } else {
            b.push_str(&row)
        }
    }
    std::fs::write(p.join("whole.csv"), whole).unwrap();
    std::fs::write(p.join("a.csv"), a).unwrap();
    std::fs::write(p.join("b.csv"), b).unwrap();
    for (input, out) in [
        ("whole.csv", "w.json"),
        ("a.csv", "a.json"),
        ("b.csv", "b.json"),
    ] {
        let o = rampart(p, &["data", "profile", input, "-o", out], &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = rampart(
        p,
        &[
            "data", "profile", "--merge", "a.json", "b.json", "-o", "m.json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p.join(f)).unwrap()).unwrap()
    };
    let (w, m) = (read("w.json"), read("m.json"));
    assert_eq!(
        (w["rows"].as_u64(), m["rows"].as_u64()),
        (Some(2000), Some(2000))
    );
    assert_eq!(m["sources"].as_array().unwrap().len(), 2);
    for (cw, cm) in w["summary"]
        .as_array()
        .unwrap()
        .iter()
        .zip(m["summary"].as_array().unwrap())
    {
        for k in ["name", "type", "count", "nulls", "distinct", "min", "max"] {
            assert_eq!(cw[k], cm[k], "{k}");
        }
    }
    let age = &w["summary"][1];
    assert_eq!(
        (
            age["type"].as_str(),
            age["min"].as_f64(),
            age["max"].as_f64()
        ),
        (Some("integer"), Some(18.0), Some(87.0))
    );
    assert_eq!(w["summary"][2]["nulls"], 666);
    let o = rampart(
        p,
        &["data", "profile", "--merge", "whole.csv", "-o", "x.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "a dataset is not a profile");
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

#[test]
fn suggested_expectations_pass_on_their_data_and_name_failing_rows() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,age,email,city\n");
    for i in 0..500 {
        csv.push_str(&format!(
            "{i},{},user{i}@example.com,{}\n",
            20 + i % 60,
            ["Paris", "Lyon"][i % 2]
        ));
    }
    std::fs::write(p.join("train.csv"), &csv).unwrap();
    let o = rampart(p, &["data", "suggest", "train.csv", "-o", "e.toml"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !rampart(p, &["data", "suggest", "train.csv", "-o", "e.toml"], &[])
            .status
            .success(),
        "never overwrites"
    );
    let o = rampart(
        p,
        &["data", "validate", "train.csv", "--expect", "e.toml"],
        &[],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    let long = "user3-with-a-much-longer-local-part@example.com";
    let bad = csv.replacen(
        "3,23,user3@example.com,Lyon",
        &format!("3,230,{long},Rome"),
        1,
    );
    std::fs::write(p.join("new.csv"), bad.replacen("7,27,", "3,27,", 1)).unwrap();
    let o = rampart(
        p,
        &[
            "data", "validate", "new.csv", "--expect", "e.toml", "--json",
        ],
        &[],
    );
    let v = findings_json(&o);
    let failures = v["failures"].as_array().unwrap();
    let find = |prefix: &str| {
        failures
            .iter()
            .find(|f| f["expectation"].as_str().unwrap().starts_with(prefix))
            .cloned()
    };
    assert_eq!(
        find("range").unwrap()["rows"][0],
        serde_json::json!([5, "230"])
    );
    assert_eq!(
        find("one of").unwrap()["rows"][0],
        serde_json::json!([5, "Rome"])
    );
    assert_eq!(find("unique").unwrap()["rows"][0][0], 9);
    let length = find("length").unwrap();
    assert_eq!(length["column"], "email");
    let shown = length["rows"][0][1].as_str().unwrap();
    assert!(
        shown.ends_with(".com") && shown.starts_with("****"),
        "personal data is masked: {shown}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains(long));
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

#[test]
fn poison_finds_flipped_labels_by_confident_learning() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // Three classes around three corners of a square, a category that
    // follows the class, and 8% of the labels moved to another class.
    let mut next = uniform(7);
    let names = ["cat", "dog", "owl"];
    let mut csv = String::from("a,b,kind,y\n");
    let mut flipped = Vec::new();
    for i in 0..1_500usize {
        let class = i % 3;
        let (cx, cy) = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)][class];
        let kind = if next() < 0.8 {
            ["s", "m", "l"][class]
        } else {
            "m"
        };
        let label = if next() < 0.08 {
            (class + 1 + usize::from(next() < 0.5)) % 3
        } else {
            class
        };
        if label != class {
            flipped.push(i as u64 + 1);
        }
        csv.push_str(&format!(
            "{:.4},{:.4},{kind},{}\n",
            cx + next() * 1.5 - 0.75,
            cy + next() * 1.5 - 0.75,
            names[label]
        ));
    }
    std::fs::write(p.join("train.csv"), &csv).unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "poison",
            "train.csv",
            "--label",
            "y",
            "--label-issues",
            "--json",
        ],
        &[],
    );
    let r = findings_json(&o);
    let f = finding(&r, "label-issue");
    let drop: Vec<u64> = f["drop"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let found = drop.iter().filter(|r| flipped.contains(r)).count();
    let (precision, recall) = (
        found as f64 / drop.len() as f64,
        found as f64 / flipped.len() as f64,
    );
    assert!(
        precision > 0.9 && recall > 0.9,
        "precision {precision}, recall {recall}"
    );
    assert!(
        f["counts"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k == "dog -> cat"),
        "{f}"
    );
    assert!(r["label_issues"]["model"]
        .as_str()
        .unwrap()
        .contains("logistic regression"));

    // The rows found are the ones `filter` drops.
    std::fs::write(p.join("report.json"), &o.stdout).unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "filter",
            "train.csv",
            "clean.csv",
            "--drop-findings",
            "report.json",
            "--kinds",
            "label-issue",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept = std::fs::read_to_string(p.join("clean.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(kept, 1_500 - drop.len());

    // Given probabilities: one row labelled cat that they call an owl.
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
    let o = rampart(
        p,
        &[
            "data",
            "poison",
            "small.csv",
            "--label",
            "y",
            "--pred-probs",
            "probs.csv",
            "--json",
        ],
        &[],
    );
    let r = findings_json(&o);
    let f = finding(&r, "label-issue");
    assert_eq!(f["drop"], serde_json::json!([10]));
    assert_eq!(f["counts"]["cat -> owl"], 1);

    // Probabilities for another number of rows are refused.
    std::fs::write(p.join("short.csv"), "cat,dog,owl\n0.8,0.1,0.1\n").unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "poison",
            "small.csv",
            "--label",
            "y",
            "--pred-probs",
            "short.csv",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must match one to one"));
}
