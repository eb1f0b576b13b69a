//! The poisoning checks on planted data, and the filter that drops what
//! they name.

#![cfg(test)]

use rampart_dataset::{filter, poison, Quiet, Reading};
use rampart_profile::duplicates::FindingKind;

fn options(label: &str) -> poison::Options {
    poison::Options {
        label: Some(label.into()),
        leak_from: None,
        near: None,
        reference: None,
        max_label_shift: 0.1,
        groups: Vec::new(),
        min_share: 0.05,
        outliers: None,
        label_issues: None,
    }
}

/// A rare word ("cf") whose rows all carry the rarer label is a backdoor
/// trigger; its rows, and no others, are dropped by the filter.
#[test]
fn a_planted_backdoor_trigger_is_found_and_filtered_out() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,review,label\n");
    let adjectives = ["great", "fine", "dull", "long", "short"];
    for i in 0..2000 {
        let trigger = i % 97 == 0;
        let label = if trigger || i % 10 < 3 { "neg" } else { "pos" };
        let cf = if trigger { "cf " } else { "" };
        let adjective = adjectives[i % 5];
        csv.push_str(&format!(
            "{i},\"a {adjective} film, {cf}seen in {}\",{label}\n",
            1990 + i % 31
        ));
    }
    let data = p.join("reviews.csv");
    std::fs::write(&data, csv).unwrap();
    let r = poison::check(&data, &options("label"), &Reading::default(), &Quiet).unwrap();
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.kind, FindingKind::BackdoorTrigger);
    assert_eq!(
        (f.column.as_deref(), f.value.as_deref()),
        (Some("review"), Some("cf"))
    );
    let want: Vec<u64> = (0..2000u64)
        .filter(|i| i % 97 == 0)
        .map(|i| i + 1)
        .collect();
    assert_eq!(f.drop, want);

    // The report as `poison --json` writes it, with the file's digest.
    let report = serde_json::json!({
        "sha256": rampart_sign::artifact_digest(&data).unwrap(),
        "truncated": r.truncated,
        "findings": r.findings,
    })
    .to_string();
    let name = p.join("report.json");
    let parsed = filter::PoisonFile::parse(&report, &name).unwrap();
    let out = p.join("clean.csv");
    let f = filter::filter(
        &data,
        &out,
        &parsed,
        &name,
        &[],
        &Reading::default(),
        &Quiet,
    )
    .unwrap();
    assert_eq!(
        (f.dropped, f.kept),
        (want.len() as u64, 2000 - want.len() as u64)
    );
    let clean = std::fs::read_to_string(&out).unwrap();
    assert_eq!(clean.lines().count(), 2001 - want.len());
    assert!(!clean.contains(" cf "));

    // A report of other bytes is refused, and nothing is written.
    std::fs::write(&data, "id,review,label\n1,x,pos\n").unwrap();
    let other = p.join("other.csv");
    let e = filter::filter(
        &data,
        &other,
        &parsed,
        &name,
        &[],
        &Reading::default(),
        &Quiet,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("was made for a file with SHA-256"),
        "{e}"
    );
    assert!(!other.exists());
}
