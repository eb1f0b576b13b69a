//! `rampart data pii scan` as a user runs it.

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
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
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
