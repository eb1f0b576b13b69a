//! The documented workflows raise no false alarms (issue 17, "cries
//! wolf"), and shared files keep no personal data. Each test failed on
//! the code before it.

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
            "{i},{f} {l},{}.{}@example.com,19{:02}-0{}-1{},9{:04},{},4111111111111111,Dear {f} {l} call 415 555 {:04} SSN 078-05-1120{ending}",
            f.to_lowercase(),
            l.to_lowercase(),
            50 + i % 40,
            1 + i % 9,
            i % 10,
            i * 37 % 10_000,
            20 + i % 50,
            1000 + i
        ));
    }
    s
}

/// The README's `mask.toml`, word for word.
const README_MASK: &str = r#"
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
    std::fs::write(p.join("mask.toml"), README_MASK).unwrap();
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
        // inside siv tokens.
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
