//! Drift between two datasets, or a profile and a dataset: moved columns
//! are found by the right test, unmoved data is not, and a profile is
//! compared through its sketches.

#![cfg(test)]

use rampart_dataset::{drift, profile, Quiet, Reading};
use rampart_profile::drift::{ColumnDrift, Method, Options};
use std::path::Path;

fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` rows: an id, a number near `shift` (a NaN every 500 rows), and a
/// city that is Paris with probability `paris`.
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

fn compare(p: &Path, reference: &str, current: &str, o: &Options) -> drift::Drift {
    drift::drift(
        &p.join(reference),
        &p.join(current),
        o,
        100_000,
        0.5,
        &Reading::default(),
        &Quiet,
    )
    .unwrap()
}

fn column<'a>(d: &'a drift::Drift, name: &str) -> &'a ColumnDrift {
    d.report.columns.iter().find(|c| c.column == name).unwrap()
}

#[test]
fn moved_columns_are_found_from_files_and_profiles() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("ref.csv"), drift_csv(3_000, 1, 0.0, 0.3)).unwrap();
    std::fs::write(p.join("same.csv"), drift_csv(3_000, 2, 0.0, 0.3)).unwrap();
    std::fs::write(p.join("moved.csv"), drift_csv(3_000, 3, 0.1, 0.45)).unwrap();
    let o = Options::default();

    let same = compare(p, "ref.csv", "same.csv", &o);
    assert_eq!((same.report.drifted, same.report.dataset_drift), (0, false));
    assert!(same.passed());
    assert_eq!(column(&same, "x").test, "ks");
    assert!(column(&same, "x").exact);
    assert_eq!(column(&same, "city").test, "chi2");
    assert_eq!(
        column(&same, "id").ks,
        Some(0.0),
        "the same ids on both sides"
    );

    let moved = compare(p, "ref.csv", "moved.csv", &o);
    assert!(column(&moved, "x").drifted && column(&moved, "city").drifted);
    assert!(column(&moved, "x").p_adjusted.unwrap() < 0.05);
    assert!(moved.report.dataset_drift && !moved.passed());
    assert!(moved.details()["drifted"].as_array().unwrap().len() >= 2);

    // A profile as the reference: compared through its sketches.
    let mut prof = profile::of_dataset(&p.join("ref.csv"), &Reading::default(), &Quiet)
        .unwrap()
        .profile;
    std::fs::write(p.join("ref.profile.json"), prof.to_json_text().unwrap().0).unwrap();
    let from_profile = compare(p, "ref.profile.json", "moved.csv", &o);
    assert!(from_profile.report.dataset_drift);
    assert!(!column(&from_profile, "x").exact);
    assert!(drift::text(&from_profile.report).contains("ks ~"));
    assert!(compare(p, "ref.profile.json", "same.csv", &o).passed());

    // A distance method with its threshold.
    let psi = Options {
        method: Method::Psi,
        threshold: 0.5,
        ..Options::default()
    };
    let r = compare(p, "ref.csv", "moved.csv", &psi);
    assert_eq!(column(&r, "x").test, "psi");
    assert!(r.passed());
}

#[test]
fn bad_options_and_empty_sides_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("ref.csv"), drift_csv(100, 1, 0.0, 0.3)).unwrap();
    std::fs::write(p.join("empty.csv"), "id,x,city\n").unwrap();
    let run = |current: &str, o: &Options| {
        drift::drift(
            &p.join("ref.csv"),
            &p.join(current),
            o,
            100,
            0.5,
            &Reading::default(),
            &Quiet,
        )
    };
    let e = run("empty.csv", &Options::default()).unwrap_err();
    assert!(e.to_string().contains("no records"), "{e}");
    let alpha = Options {
        alpha: 1.5,
        ..Options::default()
    };
    assert!(run("ref.csv", &alpha)
        .unwrap_err()
        .to_string()
        .contains("--alpha"));
}
