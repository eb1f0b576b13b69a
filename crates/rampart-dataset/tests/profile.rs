//! Profiles, merged from shards, and the expectations suggested from them
//! checked back against data.

#![cfg(test)]

use rampart_dataset::{profile, validate, Quiet, Reading};
use rampart_profile::expect::Expectations;

/// Profiles of two shards, merged, equal the profile of the whole file
/// in every exact statistic.
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
    let of = |name: &str, text: &str| {
        let path = p.join(name);
        std::fs::write(&path, text).unwrap();
        profile::of_dataset(&path, &Reading::default(), &Quiet)
            .unwrap()
            .profile
    };
    let mut w = of("whole.csv", &whole);
    let mut m = of("a.csv", &a);
    m.merge(&of("b.csv", &b)).unwrap();
    assert_eq!((w.rows, m.rows, m.sources.len()), (2000, 2000, 2));
    let (_, ws) = w.to_json_text().unwrap();
    let (_, ms) = m.to_json_text().unwrap();
    for (cw, cm) in ws.iter().zip(&ms) {
        for k in ["name", "type", "count", "nulls", "distinct", "min", "max"] {
            assert_eq!(cw[k], cm[k], "{k} of {}", cw["name"]);
        }
    }
    let age = &ws[1];
    assert_eq!(
        (
            age["type"].as_str(),
            age["min"].as_f64(),
            age["max"].as_f64()
        ),
        (Some("integer"), Some(18.0), Some(87.0))
    );
    assert_eq!(ws[2]["nulls"], 666);
    // A dataset is not a profile to merge.
    let e = profile::read_for_merge(&p.join("whole.csv")).unwrap_err();
    assert!(e.to_string().contains("whole.csv"), "{e}");
}

/// Expectations suggested from a dataset pass on it; a changed copy fails
/// them, each failure naming the line and the value, personal data
/// masked.
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
    let train = p.join("train.csv");
    std::fs::write(&train, &csv).unwrap();
    let s = profile::suggest(&train, &Reading::default(), 0.5, false, &Quiet).unwrap();
    assert!(s.expectations > 0 && s.columns == 4, "{}", s.toml);
    assert!(s.toml.starts_with("# Expectations suggested"), "{}", s.toml);
    assert!(!s.toml.contains("user1@example.com"), "{}", s.toml);
    let check = |path: &std::path::Path| {
        let e = Expectations::parse(&s.toml).unwrap();
        validate::validate(path, e, 0.5, &Reading::default(), &Quiet).unwrap()
    };
    assert!(check(&train).passed(), "{:?}", check(&train).failures);

    let long = "user3-with-a-much-longer-local-part@example.com";
    let bad = csv.replacen(
        "3,23,user3@example.com,Lyon",
        &format!("3,230,{long},Rome"),
        1,
    );
    let new = p.join("new.csv");
    std::fs::write(&new, bad.replacen("7,27,", "3,27,", 1)).unwrap();
    let r = check(&new);
    let find = |prefix: &str| {
        r.failures
            .iter()
            .find(|f| f.expectation.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} failure in {:?}", r.failures))
    };
    assert_eq!(find("range").rows[0], (5, "230".to_string()));
    assert_eq!(find("one of").rows[0], (5, "Rome".to_string()));
    assert_eq!(find("unique").rows[0].0, 9);
    let length = find("length");
    assert_eq!(length.column.as_deref(), Some("email"));
    let shown = &length.rows[0].1;
    assert!(
        shown.ends_with(".com") && shown.starts_with("****"),
        "personal data is masked: {shown}"
    );
}
