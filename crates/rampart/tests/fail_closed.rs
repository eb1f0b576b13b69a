//! A gate never passes what it did not fully read (docs/fail-closed.md):
//! each test here failed open on the code before it.

#![cfg(test)]

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

/// An age identity in `dir`; returns its recipient.
fn age_identity(dir: &Path) -> String {
    let o = rampart(dir, &["age-keygen", "id.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
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
    // Asked for JSON, the failure is JSON on stdout too.
    let o = rampart(p, &["data", "pii", "scan", "legacy.csv", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["error"]["code"], "DATA-UNREAD");
    let o = rampart(p, &["data", "pii", "scan", "missing.csv", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "error");
    assert!(err.contains("2 of 2 records could not be read"), "{err}");
    assert!(err.contains("--encoding cp1252"), "{err}");
    // Skipping is allowed when asked, and still counted; but skipping
    // every record checks nothing, and is not a pass.
    let mut mixed = cp1252_csv();
    mixed.extend_from_slice(b"3,x,plain text\n");
    std::fs::write(p.join("mixed.csv"), mixed).unwrap();
    let skip = |file: &str| {
        rampart(
            p,
            &["data", "pii", "scan", file, "--bad-input", "skip", "--json"],
        )
    };
    let o = skip("mixed.csv");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["skipped"], 2);
    let o = skip("legacy.csv");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("all 2 records were skipped"),
        "{}",
        stderr(&o)
    );
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

#[test]
fn outputs_never_overwrite_inputs_and_are_checked_first() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let csv = "id,age\n1,30\n2,40\n";
    std::fs::write(p.join("pp.csv"), csv).unwrap();
    // Before: the profile replaced the data it profiled.
    let o = rampart(p, &["data", "profile", "pp.csv", "-o", "pp.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is the input"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(p.join("pp.csv")).unwrap(), csv);
    std::fs::write(p.join("x.pkl"), b"\x80\x04K\x01.").unwrap();
    let o = rampart(p, &["scan", "x.pkl", "-o", "x.pkl"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(p.join("x.pkl")).unwrap(), b"\x80\x04K\x01.");
    std::fs::create_dir(p.join("dir")).unwrap();
    for args in [
        &["data", "profile", "pp.csv", "-o", "dir"][..],
        &["scan", "x.pkl", "-o", "dir"],
        &["data", "profile", "pp.csv", "-o", "missing/p.json"],
    ] {
        let o = rampart(p, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("is a folder") || stderr(&o).contains("does not exist"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[cfg(unix)]
#[test]
fn snapshots_sign_verify_and_encrypt_through_their_links() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let repo = p.join("models--org--m");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/r1")).unwrap();
    std::fs::write(repo.join("blobs/b1"), "weights").unwrap();
    std::os::unix::fs::symlink(
        "../../blobs/b1",
        repo.join("snapshots/r1/model.safetensors"),
    )
    .unwrap();
    let snap = "models--org--m/snapshots/r1";
    // Before: encrypt wrote an empty archive.
    let recipient = age_identity(p);
    let o = rampart(p, &["encrypt", snap, "-o", "s.age", "-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        rampart(p, &["decrypt", "s.age", "-o", "out", "-i", "id.txt"])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(p.join("out/model.safetensors")).unwrap(),
        "weights"
    );
    // A link out of the folder is refused, not left out.
    std::fs::create_dir(p.join("m")).unwrap();
    std::fs::write(p.join("outside.bin"), "x").unwrap();
    std::os::unix::fs::symlink("../outside.bin", p.join("m/w.bin")).unwrap();
    let o = rampart(p, &["encrypt", "m", "-o", "m.age", "-r", &recipient]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("outside the folder"), "{}", stderr(&o));
    assert!(!p.join("m.age").exists());
    // Signing: links into the cache repository are part of the model.
    assert!(rampart(p, &["keygen", "k"]).status.success());
    let o = rampart(p, &["sign", snap, "--key", "k.key"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Hugging Face"), "{}", stderr(&o));
    let o = rampart(p, &["sign", snap, "--key", "k.key", "--allow-symlinks"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(rampart(p, &["verify", snap, "--key", "k.pub"])
        .status
        .success());
    // digest leaves the signature out, so its root is the signed root.
    let o = rampart(p, &["digest", snap, "--allow-symlinks"]);
    let digest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = digest["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["model.safetensors"], "{digest}");
    // A link added after signing is a failed verification (1), named.
    std::os::unix::fs::symlink("../../blobs/b1", repo.join("snapshots/r1/extra.bin")).unwrap();
    let o = rampart(p, &["verify", snap, "--key", "k.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("extra.bin"), "{}", stderr(&o));
}

#[test]
fn typos_are_errors_naming_the_nearest_name() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,name,sex,label\n");
    for i in 0..50 {
        csv.push_str(&format!("{i},Person {i},{},{}\n", ["f", "m"][i % 2], i % 2));
    }
    std::fs::write(p.join("t.csv"), &csv).unwrap();
    std::fs::write(p.join("ref.csv"), "id,y\n1,0\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["data", "poison", "t.csv", "--label", "lable"],
            "did you mean `label`",
        ),
        (
            &["data", "poison", "t.csv", "--groups", "sexx"],
            "did you mean `sex`",
        ),
        (
            &[
                "data",
                "poison",
                "t.csv",
                "--label",
                "label",
                "--reference",
                "ref.csv",
            ],
            "ref.csv: --label \"label\": no such column",
        ),
        (
            &["data", "risk", "t.csv", "--quasi", "nmae"],
            "did you mean `name`",
        ),
    ];
    for (args, want) in cases {
        let o = rampart(p, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    // A masking policy's column and entity names.
    std::fs::write(p.join("m1.toml"), "[columns]\nnmae = \"drop\"\n").unwrap();
    let o = rampart(
        p,
        &[
            "data", "pii", "mask", "t.csv", "o.csv", "--policy", "m1.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("did you mean `name`"), "{}", stderr(&o));
    assert!(!p.join("o.csv").exists());
    std::fs::write(p.join("m2.toml"), "[entities]\nEMAIL_ADRESS = \"redact\"\n").unwrap();
    let o = rampart(
        p,
        &[
            "data", "pii", "mask", "t.csv", "o.csv", "--policy", "m2.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("m2.toml") && stderr(&o).contains("did you mean `EMAIL_ADDRESS`"),
        "{}",
        stderr(&o)
    );
    // An expectation on a column that is not there: before, "0 failed".
    std::fs::write(
        p.join("e.toml"),
        "[[expect]]\ncolumn = \"idd\"\nunique = true\n",
    )
    .unwrap();
    let o = rampart(p, &["data", "validate", "t.csv", "--expect", "e.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("e.toml") && stderr(&o).contains("did you mean `id`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unmask_with_another_key_or_an_edited_token_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("in.csv"), "id,name\n1,Mary Johnson\n2,John Smith\n").unwrap();
    std::fs::write(p.join("m.toml"), "[columns]\nname = \"siv\"\n").unwrap();
    assert!(rampart(p, &["data", "pii", "keygen", "k1"])
        .status
        .success());
    assert!(rampart(p, &["data", "pii", "keygen", "k2"])
        .status
        .success());
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "mask",
            "in.csv",
            "masked.csv",
            "--policy",
            "m.toml",
            "--key",
            "k1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "unmask",
            "masked.csv",
            "back.csv",
            "--policy",
            "m.toml",
            "--key",
            "k1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(p.join("back.csv"))
        .unwrap()
        .contains("Mary Johnson"));
    // Before: exit 0 with the tokens left as they were.
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "unmask",
            "masked.csv",
            "b2.csv",
            "--policy",
            "m.toml",
            "--key",
            "k2",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("line 2") && stderr(&o).contains("do not authenticate"),
        "{}",
        stderr(&o)
    );
    assert!(!p.join("b2.csv").exists());
    let masked = std::fs::read_to_string(p.join("masked.csv")).unwrap();
    let at = masked.find("siv:").unwrap() + 8;
    let mut edited = masked.into_bytes();
    edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(p.join("edited.csv"), edited).unwrap();
    let o = rampart(
        p,
        &[
            "data",
            "pii",
            "unmask",
            "edited.csv",
            "b3.csv",
            "--policy",
            "m.toml",
            "--key",
            "k1",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!p.join("b3.csv").exists());
}

// The documented workflows raise no false alarms ("cries wolf"), and
// shared files keep no personal data.

/// People with names, SSNs, e-mail addresses, postcodes and notes: 40
/// distinct names over 400 rows.
fn people(ending: &str) -> String {
    let first = [
        "Sarah", "Michael", "Emily", "James", "Maria", "David", "Anna", "Robert",
    ];
    let last = ["Johnson", "Chen", "Davis", "Smith", "Garcia"];
    let mut s = format!("id,name,email,dob,zip,age,card,notes{ending}");
    for i in 0..400usize {
        let (f, l) = (first[i % 8], last[i * 7 % 5]);
        s.push_str(&format!(
            "{i},{f} {l},{}.{}@example.com,19{:02}-0{}-1{},9{:04},{},{},Dear {f} {l} call 415 555 {:04} SSN 078-05-1120{ending}",
            f.to_lowercase(),
            l.to_lowercase(),
            50 + i % 40,
            1 + i % 9,
            i % 10,
            i * 37 % 10_000,
            20 + i % 50,
            card(i),
            1000 + i
        ));
    }
    s
}

/// A distinct Luhn-valid 16-digit card number per row.
fn card(i: usize) -> String {
    let body = format!("4{:014}", i * 7_919 + 1_234_567);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k % 2 == 0 {
                (d * 2) / 10 + (d * 2) % 10
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// The rules of the `mask.toml` in docs/data-protection.md, without its comments.
const DOCS_MASK: &str = r#"
threshold = 0.5
default = "replace"

[entities]
EMAIL_ADDRESS = "hmac"
PHONE_NUMBER = { action = "mask", keep = 4 }
US_SSN = "siv"

[columns]
id = "keep"
name = "siv"
card = "ff1"
dob = { action = "generalise", to = "year" }
zip = { action = "generalise", to = { prefix = 3 } }
age = { action = "generalise", to = { band = 10 } }
notes = "drop"
"#;

#[test]
fn data_masked_with_the_readme_policy_passes_the_pii_gate() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("people.csv"), people("\n")).unwrap();
    std::fs::write(p.join("mask.toml"), DOCS_MASK).unwrap();
    // Free text with every entity action, so siv tokens stand in prose.
    std::fs::write(
        p.join("prose.toml"),
        "default = \"siv\"\n[entities]\nEMAIL_ADDRESS = \"hmac\"\nPHONE_NUMBER = { action = \"mask\", keep = 4 }\n[columns]\nzip = { action = \"generalise\", to = { prefix = 3 } }\ncard = \"ff1\"\n",
    )
    .unwrap();
    assert!(rampart(p, &["data", "pii", "keygen", "pii.key"])
        .status
        .success());
    for policy in ["mask.toml", "prose.toml"] {
        let o = rampart(
            p,
            &[
                "data",
                "pii",
                "mask",
                "people.csv",
                "masked.csv",
                "--policy",
                policy,
                "--key",
                "pii.key",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        // Before: POSTCODE on every generalised zip (941**), PERSON
        // inside siv tokens, and CREDIT_CARD on the tenth of 400 FF1
        // card tokens that passed the Luhn check.
        let o = rampart(p, &["data", "pii", "scan", "masked.csv", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(o.status.code(), Some(0), "{policy}: {}", v["matches"]);
        std::fs::remove_file(p.join("masked.csv")).unwrap();
    }
}

#[test]
fn a_dataset_does_not_drift_from_its_own_profile() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // 3,000 names, skewed: more than a profile's 64 counters hold.
    let mut s = String::from("id,name,city\n");
    let mut x: u64 = 1;
    for i in 0..20_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        s.push_str(&format!(
            "{i},name{},c{}\n",
            (u.powi(3) * 3000.0) as u32,
            i % 31
        ));
    }
    std::fs::write(p.join("nc.csv"), s).unwrap();
    let o = rampart(p, &["data", "profile", "nc.csv", "-o", "p.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (a, b) in [("p.json", "nc.csv"), ("nc.csv", "p.json")] {
        let o = rampart(p, &["data", "drift", a, b, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(o.status.code(), Some(0), "{v}");
        let name = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == "name")
            .unwrap();
        assert_eq!(name["test"], "chi2", "{name}");
        assert_eq!(name["drifted"], false, "{name}");
    }
}

#[test]
fn crlf_files_have_editors_line_numbers_and_keep_their_endings() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let text = "id,name,note\r\n1,Bob,x\r\n2,Ann,\"two\r\nlines\"\r\n\r\n3,Al,SSN 078-05-1120\r\n";
    std::fs::write(p.join("crlf.csv"), text).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "crlf.csv", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ssn = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["entity"] == "US_SSN")
        .unwrap();
    // Line 6 in an editor (the CSV reader said 4).
    assert_eq!(ssn["line"], 6, "{ssn}");
    std::fs::write(p.join("m.toml"), "default = \"replace\"\n").unwrap();
    let o = rampart(
        p,
        &[
            "data", "pii", "mask", "crlf.csv", "out.csv", "--policy", "m.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = std::fs::read_to_string(p.join("out.csv")).unwrap();
    assert!(out.starts_with("id,name,note\r\n"), "{out:?}");
    assert_eq!(
        out.matches('\n').count(),
        out.matches("\r\n").count(),
        "{out:?}"
    );
}

#[test]
fn profiles_and_suggestions_keep_no_personal_data() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("people.csv"), people("\n")).unwrap();
    let o = rampart(p, &["data", "profile", "people.csv", "-o", "p.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = rampart(p, &["data", "suggest", "people.csv", "-o", "s.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["p.json", "s.toml"] {
        let text = std::fs::read_to_string(p.join(file)).unwrap();
        for raw in [
            "Sarah Johnson",
            "Emily Davis",
            "078-05-1120",
            "sarah.johnson@example.com",
            "555 1001",
        ] {
            assert!(!text.contains(raw), "{file} holds {raw}");
        }
    }
    // The masks are there instead, and the suggestion names no value set
    // of a masked column.
    let profile = std::fs::read_to_string(p.join("p.json")).unwrap();
    assert!(profile.contains("\"masked\":true") || profile.contains("\"masked\": true"));
    let s = std::fs::read_to_string(p.join("s.toml")).unwrap();
    assert!(!s.contains("*"), "{s}");
    // The masked profile does not drift from its own data.
    let o = rampart(p, &["data", "drift", "p.json", "people.csv"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Kept when asked.
    let o = rampart(
        p,
        &[
            "data",
            "profile",
            "people.csv",
            "-o",
            "k.json",
            "--keep-personal-data",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(p.join("k.json"))
        .unwrap()
        .contains("Sarah Johnson"));
}

/// The smaller items of issue 17: messages that say what is wrong, once.
#[test]
fn errors_and_help_say_what_is_wrong_once() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // A zstd file cut short: a sentence, not a debug dump.
    let mut z = vec![0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x45, 0x02, 0x00];
    z.extend_from_slice(b"id,name\n");
    std::fs::write(p.join("cut.csv.zst"), &z).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "cut.csv.zst"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("cut.csv.zst: the zstd"), "{err}");
    assert!(!err.contains("Error {") && !err.contains("kind:"), "{err}");
    // An existing key, and a folder that does not exist, are told apart.
    assert!(rampart(p, &["data", "pii", "keygen", "k"]).status.success());
    let err = stderr(&rampart(p, &["data", "pii", "keygen", "k"]));
    assert!(err.contains("k exists, and is never overwritten"), "{err}");
    let err = stderr(&rampart(p, &["data", "pii", "keygen", "no/such/k"]));
    assert!(
        err.contains("cannot create no/such/k") && !err.contains("overwritten"),
        "{err}"
    );
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    // DATA-UNREAD is documented with the other rules.
    let o = rampart(p, &["rules", "DATA-UNREAD"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every kind of poison finding can be filtered by.
    let help = String::from_utf8(rampart(p, &["data", "filter", "--help"]).stdout).unwrap();
    for kind in [
        "near-duplicate",
        "outlier",
        "backdoor-trigger",
        "label-issue",
    ] {
        assert!(help.contains(kind), "{kind} missing from {help}");
    }
    // Masking flags only where personal data is looked for.
    for cmd in ["drift", "validate", "poison", "risk"] {
        let help = String::from_utf8(rampart(p, &["data", cmd, "--help"]).stdout).unwrap();
        assert!(
            !help.contains("--threshold") && !help.contains("Masking policy"),
            "{cmd}: {help}"
        );
    }
    let help = String::from_utf8(rampart(p, &["data", "profile", "--help"]).stdout).unwrap();
    assert!(help.contains("--keep-personal-data"), "{help}");
}

/// A raw Zstandard frame (no compression, no checksum) holding `data`.
fn zstd_frame(data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, data.len() as u8];
    let block = ((data.len() as u32) << 3) | 1;
    f.extend_from_slice(&block.to_le_bytes()[..3]);
    f.extend_from_slice(data);
    f
}

#[test]
fn every_zstd_frame_is_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // pzstd and `cat a.zst b.zst` write several frames; before, all but
    // the first were ignored and this passed.
    let mut z = zstd_frame(b"id,contact\n1,nobody\n");
    z.extend(zstd_frame(b"2,john.smith@example.com\n"));
    std::fs::write(p.join("two.csv.zst"), &z).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "two.csv.zst", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["matches"][0]["line"], 3, "{v}");
    // Bytes after the last frame are an error, not ignored.
    z.extend_from_slice(b"junk");
    std::fs::write(p.join("junk.csv.zst"), &z).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "junk.csv.zst"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("junk.csv.zst: the zstd stream"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn binary_and_empty_files_are_not_datasets() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // An .xlsx is a ZIP archive; before, it was read as CSV: "0 matches".
    let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec();
    xlsx.extend_from_slice(b"[Content_Types].xml john.smith@example.com");
    std::fs::write(p.join("people.xlsx"), &xlsx).unwrap();
    // Random bytes; before, --encoding cp1252 decoded them and passed.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    std::fs::write(p.join("noise.csv"), &noise).unwrap();
    std::fs::write(p.join("empty.csv"), b"").unwrap();
    for (file, says) in [
        ("people.xlsx", "a ZIP archive"),
        ("noise.csv", "binary data"),
        ("empty.csv", "the file is empty"),
    ] {
        for args in [
            vec!["data", "pii", "scan", file],
            vec!["data", "pii", "scan", file, "--encoding", "cp1252"],
            vec!["data", "profile", file, "-o", "p.json"],
        ] {
            let o = rampart(p, &args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        }
    }
    // A UTF-16 export is text, not binary: it is read when asked.
    let utf16: Vec<u8> = "id,contact\n1,john.smith@example.com\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(p.join("u16.csv"), &utf16).unwrap();
    let o = rampart(
        p,
        &["data", "pii", "scan", "u16.csv", "--encoding", "utf-16le"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // With a byte-order mark (pandas' encoding="utf-16"), without asking.
    let mut bom = vec![0xff, 0xfe];
    bom.extend(&utf16);
    std::fs::write(p.join("bom.csv"), &bom).unwrap();
    let o = rampart(p, &["data", "pii", "scan", "bom.csv", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["EMAIL_ADDRESS"], 1, "{v}");
}

#[test]
fn a_header_row_is_scanned_and_masked() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // A headerless export: its first row is data. Before, a one-line file
    // passed and `mask` copied the first row in clear.
    std::fs::write(
        p.join("one.csv"),
        "john.smith@example.com,078-05-1120\nmary.jones@example.org,219-09-9999\n",
    )
    .unwrap();
    let o = rampart(p, &["data", "pii", "scan", "one.csv", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let on_line_1 = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["line"] == 1)
        .count();
    assert_eq!(on_line_1, 2, "{v}");
    assert!(rampart(p, &["data", "pii", "mask", "one.csv", "out.csv"])
        .status
        .success());
    let out = std::fs::read_to_string(p.join("out.csv")).unwrap();
    assert!(
        !out.contains("john.smith") && !out.contains("078-05-1120"),
        "{out}"
    );
    // Ordinary column names are not personal data.
    std::fs::write(
        p.join("named.csv"),
        "id,first_name,last_name,email,phone,ssn,date_of_birth,street_address,city,zip,card_number,iban\n1,a,b,c,d,e,f,g,h,i,j,k\n",
    )
    .unwrap();
    let o = rampart(p, &["data", "pii", "scan", "named.csv", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn ssns_without_dashes_are_found_under_an_ssn_column() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("s.csv"), "id,ssn\n1,078051120\n2,219099999\n").unwrap();
    let o = rampart(p, &["data", "pii", "scan", "s.csv", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["US_SSN"], 2, "{v}");
}

#[test]
fn an_empty_expectations_file_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("a.csv"), "x\n1\n").unwrap();
    std::fs::write(p.join("e.toml"), "# nothing\n").unwrap();
    let o = rampart(p, &["data", "validate", "a.csv", "--expect", "e.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no expectations"), "{}", stderr(&o));
}

#[test]
fn every_report_counts_what_it_skipped() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("bad.csv"),
        "id,name,age\n1,Ann,30\n2,Bob\n3,Cy,40\n4,Di,50\n5,Ed,60\n",
    )
    .unwrap();
    std::fs::write(p.join("e.toml"), "[rows]\nmin = 1\n").unwrap();
    for args in [
        vec!["data", "pii", "scan", "bad.csv"],
        vec!["data", "risk", "bad.csv", "--quasi", "age"],
        vec!["data", "validate", "bad.csv", "--expect", "e.toml"],
        vec!["data", "poison", "bad.csv"],
    ] {
        let mut args = args.clone();
        args.extend(["--bad-input", "skip"]);
        let o = rampart(p, &args);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("1 record skipped (--bad-input skip)"),
            "{args:?}: {out}"
        );
    }
}

/// A Parquet file with personal data in columns of every nested and
/// non-string type: a list of strings, a struct, binary, a map, and a
/// date beside them.
fn nested_parquet(path: &Path) {
    use arrow_array::builder::{ListBuilder, MapBuilder, StringBuilder};
    use arrow_array::{ArrayRef, BinaryArray, Date32Array, RecordBatch, StringArray, StructArray};
    use arrow_schema::{DataType, Field};
    use std::sync::Arc;
    let mut chat = ListBuilder::new(StringBuilder::new());
    for i in 0..4 {
        chat.values().append_value(format!("hello from turn {i}"));
        chat.values()
            .append_value(format!("mail me at user{i}@example.com"));
        chat.append(true);
    }
    let emails: ArrayRef = Arc::new(StringArray::from(vec![
        "ann@example.com",
        "bob@example.org",
        "cy@example.net",
        "di@example.de",
    ]));
    let contact = StructArray::from(vec![(
        Arc::new(Field::new("email", DataType::Utf8, false)),
        emails,
    )]);
    let raw = BinaryArray::from(vec![
        &b"SSN 078-05-1120"[..],
        b"nothing",
        b"nothing",
        b"nothing",
    ]);
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for i in 0..4 {
        tags.keys().append_value("phone");
        tags.values().append_value(format!("+44 20 7946 09{i:02}"));
        tags.append(true).unwrap();
    }
    let batch = RecordBatch::try_from_iter([
        ("chat", Arc::new(chat.finish()) as ArrayRef),
        ("contact", Arc::new(contact) as ArrayRef),
        ("raw", Arc::new(raw) as ArrayRef),
        ("tags", Arc::new(tags.finish()) as ArrayRef),
        (
            "day",
            Arc::new(Date32Array::from(vec![19_000, 19_001, 19_002, 19_003])) as ArrayRef,
        ),
    ])
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_columns_of_every_type_are_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    nested_parquet(&p.join("nested.parquet"));
    // Before: "0 matches", exit 0; lists, structs, binary and maps were
    // passed over unread.
    let o = rampart(p, &["data", "pii", "scan", "nested.parquet", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["EMAIL_ADDRESS"], 8, "{v}");
    assert_eq!(v["counts"]["US_SSN"], 1, "{v}");
    assert_eq!(v["counts"]["PHONE_NUMBER"], 4, "{v}");
    // Before: the four different chats were "duplicates" (all unread).
    let o = rampart(p, &["data", "poison", "nested.parquet", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Masking cannot rewrite a struct without changing its type: an
    // error, never the values passed through.
    let o = rampart(p, &["data", "pii", "mask", "nested.parquet", "out.parquet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!p.join("out.parquet").exists());
}

#[test]
fn a_file_over_max_bytes_is_an_error_in_every_command() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut text = String::from("id,note\n");
    for i in 0..500 {
        text.push_str(&format!("{i},nothing to see here\n"));
    }
    text.push_str("500,mail john.smith@example.com\n");
    std::fs::write(p.join("tail.csv"), &text).unwrap();
    // Before: pii scan and mask read nothing: "0 matches", exit 0, and an
    // empty output.
    for args in [
        vec!["data", "pii", "scan", "tail.csv"],
        vec!["data", "pii", "mask", "tail.csv", "out.csv"],
        vec!["data", "profile", "tail.csv", "-o", "p.json"],
    ] {
        let mut args = args.clone();
        args.extend(["--max-bytes", "4000"]);
        let o = rampart(p, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("more than 4000 bytes"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!p.join("out.csv").exists());
}

#[test]
fn card_numbers_stored_as_numbers_stay_out_of_profiles() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,card\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},{}\n", card(i)));
    }
    std::fs::write(p.join("cards.csv"), csv).unwrap();
    let o = rampart(p, &["data", "profile", "cards.csv", "-o", "p.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let profile = std::fs::read_to_string(p.join("p.json")).unwrap();
    // Before: min, max, top values and quantile centroids held them.
    for i in 0..30 {
        let digits = card(i);
        assert!(!profile.contains(&digits[..12]), "{digits} in {profile}");
    }
    let o = rampart(p, &["data", "suggest", "cards.csv", "-o", "e.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let suggested = std::fs::read_to_string(p.join("e.toml")).unwrap();
    assert!(!suggested.contains(&card(0)[..6]), "{suggested}");
}
