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

/// A rare label is class imbalance, a rare group value is
/// under-represented, and a label distribution that moved from a
/// reference's by more than allowed is label shift.
#[test]
fn rare_classes_groups_and_label_shift_are_named() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,sex,region,y\n");
    for i in 0..200 {
        let sex = if i % 2 == 0 { "f" } else { "m" };
        let region = if i < 196 { "north" } else { "south" };
        let y = if i < 4 { "fraud" } else { "ok" };
        csv.push_str(&format!("{i},{sex},{region},{y}\n"));
    }
    let data = p.join("loans.csv");
    std::fs::write(&data, csv).unwrap();
    let groups = poison::Options {
        groups: vec!["sex".into(), "region".into()],
        ..options("y")
    };
    let r = poison::check(&data, &groups, &Reading::default(), &Quiet).unwrap();
    /// A finding's kind, column and counts by value.
    type Named = (FindingKind, Option<String>, Vec<(String, u64)>);
    let found: Vec<Named> = r
        .findings
        .iter()
        .map(|f| {
            let counts = f.counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
            (f.kind, f.column.clone(), counts)
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                FindingKind::ClassImbalance,
                Some("y".into()),
                vec![("fraud".into(), 4), ("ok".into(), 196)]
            ),
            (
                FindingKind::UnderRepresented,
                Some("region".into()),
                vec![("north".into(), 196), ("south".into(), 4)]
            ),
        ]
    );
    // Under a smaller minimum share, nothing is rare.
    let quiet = poison::Options {
        min_share: 0.01,
        ..groups
    };
    assert!(poison::check(&data, &quiet, &Reading::default(), &Quiet)
        .unwrap()
        .passed());

    // Against a reference where fraud was 30%: 28 points of the rows
    // changed label, over the 10% allowed.
    let mut reference = String::from("id,y\n");
    for i in 0..100 {
        reference.push_str(&format!("{i},{}\n", if i < 30 { "fraud" } else { "ok" }));
    }
    std::fs::write(p.join("reference.csv"), reference).unwrap();
    let shifted = poison::Options {
        reference: Some(p.join("reference.csv")),
        ..quiet
    };
    let r = poison::check(&data, &shifted, &Reading::default(), &Quiet).unwrap();
    assert_eq!(r.findings[0].kind, FindingKind::LabelShift);
    assert_eq!(
        r.findings[0].labels,
        ["fraud: 30.0% -> 2.0%", "ok: 70.0% -> 98.0%"]
    );
    let allowed = poison::Options {
        max_label_shift: 0.3,
        ..shifted
    };
    assert!(poison::check(&data, &allowed, &Reading::default(), &Quiet)
        .unwrap()
        .passed());
}

/// Three far-out rows among 400 on a grid are the Isolation Forest's
/// outliers; ids are left out of the features; the same seed gives the
/// same scores; the filter drops the outliers alone.
#[test]
fn planted_outliers_are_found_with_reproducible_scores() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut csv = String::from("id,x,y,colour\n");
    for i in 0..400 {
        let colour = ["red", "blue"][i % 2];
        csv.push_str(&format!("row-{i},{},{},{colour}\n", i % 20, (i * 7) % 20));
    }
    for (i, (x, y)) in [(500, 3), (4, 900), (-700, -800)].iter().enumerate() {
        csv.push_str(&format!("odd-{i},{x},{y},red\n"));
    }
    let data = p.join("d.csv");
    std::fs::write(&data, csv).unwrap();
    let run = |scores: &str| {
        let o = poison::Options {
            label: None,
            outliers: Some(poison::Outliers {
                threshold: 0.65,
                trees: 100,
                seed: 0,
                scores: Some(p.join(scores)),
            }),
            ..options("y")
        };
        poison::check(&data, &o, &Reading::default(), &Quiet).unwrap()
    };
    let r = run("scores.csv");
    let outliers = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Outlier)
        .expect("the far rows are outliers");
    assert_eq!(outliers.drop, [401, 402, 403]);
    assert_eq!(r.outliers.as_ref().unwrap().left_out, ["id"]);
    let scores = std::fs::read_to_string(p.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 404, "a header and a score per row");
    assert!(scores.starts_with("record,line,score\n1,2,"));
    run("again.csv");
    assert_eq!(
        std::fs::read_to_string(p.join("again.csv")).unwrap(),
        scores
    );

    let report = serde_json::json!({
        "sha256": rampart_sign::artifact_digest(&data).unwrap(),
        "findings": r.findings,
    })
    .to_string();
    let name = p.join("report.json");
    let parsed = filter::PoisonFile::parse(&report, &name).unwrap();
    let out = p.join("clean.csv");
    let kinds = [FindingKind::Outlier];
    filter::filter(
        &data,
        &out,
        &parsed,
        &name,
        &kinds,
        &Reading::default(),
        &Quiet,
    )
    .unwrap();
    let clean = std::fs::read_to_string(&out).unwrap();
    assert_eq!(clean.lines().count(), 401);
    assert!(!clean.contains("odd-"));
}

/// The report as `poison --json` writes it: findings with the file's
/// digest, for the filter.
fn poison_file(
    data: &std::path::Path,
    r: &poison::Report,
) -> (filter::PoisonFile, std::path::PathBuf) {
    let text = serde_json::json!({
        "sha256": rampart_sign::artifact_digest(data).unwrap(),
        "truncated": r.truncated,
        "findings": r.findings,
    })
    .to_string();
    let name = data.with_extension("report.json");
    (filter::PoisonFile::parse(&text, &name).unwrap(), name)
}

/// Exact duplicates (trimmed, case-folded), duplicates whose labels
/// conflict and rows leaked from a training set are named by line; the
/// filter drops the later copy, both conflicting rows and the leak, and
/// `kinds` narrows what it drops.
#[test]
fn duplicates_conflicts_and_leaks_are_named_by_line_and_filtered() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let data = p.join("eval.csv");
    std::fs::write(&data, "a,b,y\n1,x,0\n1, X,0\n2,x,0\n2,x,1\n9,z,0\n3,q,1\n").unwrap();
    std::fs::write(p.join("train.csv"), "a,b,y\n9,z,1\n").unwrap();
    let o = poison::Options {
        leak_from: Some(p.join("train.csv")),
        ..options("y")
    };
    let r = poison::check(&data, &o, &Reading::default(), &Quiet).unwrap();
    let found: Vec<(FindingKind, Vec<u64>)> = r
        .findings
        .iter()
        .map(|f| (f.kind, f.rows.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (FindingKind::Duplicate, vec![2, 3]),
            (FindingKind::ConflictingLabels, vec![4, 5]),
            (FindingKind::Leak, vec![6]),
        ]
    );
    let (report, name) = poison_file(&data, &r);
    let run = |out: &str, kinds: &[FindingKind]| {
        let out = p.join(out);
        let f = filter::filter(
            &data,
            &out,
            &report,
            &name,
            kinds,
            &Reading::default(),
            &Quiet,
        )
        .unwrap();
        (f.rows, f.dropped, std::fs::read_to_string(out).unwrap())
    };
    assert_eq!(
        run("out.csv", &[]),
        (6, 4, "a,b,y\n1,x,0\n3,q,1\n".to_string())
    );
    assert_eq!(
        run("dups.csv", &[FindingKind::Duplicate]),
        (
            6,
            1,
            "a,b,y\n1,x,0\n2,x,0\n2,x,1\n9,z,0\n3,q,1\n".to_string()
        )
    );

    let clean = p.join("clean.csv");
    std::fs::write(&clean, "a,y\n1,0\n2,1\n").unwrap();
    let r = poison::check(&clean, &options("y"), &Reading::default(), &Quiet).unwrap();
    assert!(r.passed(), "{:?}", r.findings);
}

/// Labels moved to another class are found by confident learning with
/// out-of-fold probabilities of the built-in model, or with probabilities
/// given; probabilities for another number of rows are refused.
#[test]
fn flipped_labels_are_found_by_confident_learning() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // Three classes around three corners of a square, a category that
    // follows the class, and 8% of the labels moved to another class.
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
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
    let data = p.join("train.csv");
    std::fs::write(&data, &csv).unwrap();
    let issues = |pred_probs: Option<std::path::PathBuf>| poison::Options {
        label_issues: Some(poison::LabelIssues {
            pred_probs,
            folds: 5,
            seed: 0,
        }),
        ..options("y")
    };
    let r = poison::check(&data, &issues(None), &Reading::default(), &Quiet).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::LabelIssue)
        .unwrap();
    let found = f.drop.iter().filter(|r| flipped.contains(r)).count();
    let (precision, recall) = (
        found as f64 / f.drop.len() as f64,
        found as f64 / flipped.len() as f64,
    );
    assert!(
        precision > 0.9 && recall > 0.9,
        "precision {precision}, recall {recall}"
    );
    assert!(f.counts.contains_key("dog -> cat"), "{:?}", f.counts);
    assert!(r
        .label_issues
        .unwrap()
        .model
        .contains("logistic regression"));

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
    let (small_path, probs_path) = (p.join("small.csv"), p.join("probs.csv"));
    std::fs::write(&small_path, &small).unwrap();
    std::fs::write(&probs_path, &probs).unwrap();
    let o = issues(Some(probs_path));
    let r = poison::check(&small_path, &o, &Reading::default(), &Quiet).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::LabelIssue)
        .unwrap();
    assert_eq!(f.drop, vec![10]);
    assert_eq!(f.counts.get("cat -> owl"), Some(&1));

    let short = p.join("short.csv");
    std::fs::write(&short, "cat,dog,owl\n0.8,0.1,0.1\n").unwrap();
    let e = poison::check(
        &small_path,
        &issues(Some(short)),
        &Reading::default(),
        &Quiet,
    )
    .unwrap_err();
    assert!(e.to_string().contains("must match one to one"), "{e}");
}
