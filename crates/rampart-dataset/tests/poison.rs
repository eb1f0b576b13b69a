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

/// A row that repeats another with one word changed is a near duplicate,
/// one that repeats a training row so is a near leak; the filter drops
/// the later copy and the leak.
#[test]
fn near_duplicates_and_near_leaks_are_found_and_filtered_out() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // Rows of their own words; row 51 repeats row 1 with one word changed,
    // and the training set holds row 10 with one word changed.
    let words = |i: u64| -> String {
        (0..16u64)
            .map(|j| format!("w{}", (i * 7_919 + j * 104_729) % 100_003))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut eval = String::from("id,text,city,y\n");
    for i in 0..50u64 {
        eval.push_str(&format!("{i},{} end,lyon,{}\n", words(i), i % 2));
    }
    eval.push_str(&format!("1,{} fin,lyon,1\n", words(1)));
    let data = p.join("eval.csv");
    std::fs::write(&data, eval).unwrap();
    let train = p.join("train.csv");
    std::fs::write(
        &train,
        format!("id,text,city,y\n10,{} stop,lyon,0\n", words(10)),
    )
    .unwrap();
    let o = poison::Options {
        near: Some(0.7),
        leak_from: Some(train),
        min_share: 0.0,
        ..options("y")
    };
    let r = poison::check(&data, &o, &Reading::default(), &Quiet).unwrap();
    let kinds: Vec<(FindingKind, Vec<u64>)> = r
        .findings
        .iter()
        .map(|f| (f.kind, f.drop.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::NearDuplicate, vec![51]),
            (FindingKind::NearLeak, vec![11]),
        ]
    );
    let report = serde_json::json!({
        "sha256": rampart_sign::artifact_digest(&data).unwrap(),
        "findings": r.findings,
    })
    .to_string();
    let name = p.join("report.json");
    let parsed = filter::PoisonFile::parse(&report, &name).unwrap();
    let out = p.join("clean.csv");
    filter::filter(
        &data,
        &out,
        &parsed,
        &name,
        &[],
        &Reading::default(),
        &Quiet,
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 50);
    // Only the kinds asked for.
    let near_only = p.join("near.csv");
    let kinds = [FindingKind::NearLeak];
    let f = filter::filter(
        &data,
        &near_only,
        &parsed,
        &name,
        &kinds,
        &Reading::default(),
        &Quiet,
    )
    .unwrap();
    assert_eq!(f.dropped, 1);
}
