//! Parquet read as CSV is: the same profile, the same rows assembled for
//! the poisoning checks and re-identification risk, the same expectation
//! failures (numbered by row where CSV numbers lines).

#![cfg(test)]

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use rampart_dataset::{poison, profile, risk, validate, Quiet, Reading};
use std::path::Path;
use std::sync::Arc;

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// A Parquet file is profiled as the same data in CSV is: its numbers by
/// value, its nulls counted, on every core.
#[test]
fn parquet_profiles_as_its_csv_does() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let n = 30_000usize;
    let id: Vec<i64> = (0..n as i64).collect();
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 11 != 0).then(|| ((i * 7919) % 1000) as f64 * 0.37 - 49.999))
        .collect();
    let city: Vec<Option<&str>> = (0..n)
        .map(|i| [Some("Paris"), Some("Lyon"), None][i % 3])
        .collect();
    let mut csv = String::from("id,x,city\n");
    for i in 0..n {
        let xs = x[i].map(|v| v.to_string()).unwrap_or_default();
        csv.push_str(&format!("{},{},{}\n", id[i], xs, city[i].unwrap_or("")));
    }
    std::fs::write(p.join("t.csv"), csv).unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
        ("city", Arc::new(StringArray::from(city)) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&p.join("t.parquet"), &batch);
    let summary = |name: &str| {
        let mut prof = profile::of_dataset(&p.join(name), &Reading::default(), &Quiet)
            .unwrap()
            .profile;
        prof.to_json_text().unwrap().1
    };
    let (csv, parquet) = (summary("t.csv"), summary("t.parquet"));
    for c in 0..3 {
        for k in [
            "name",
            "type",
            "count",
            "nulls",
            "kinds",
            "distinct",
            "min",
            "max",
            "mean",
            "quantiles",
            "top",
        ] {
            assert_eq!(csv[c][k], parquet[c][k], "{k} of {}", csv[c]["name"]);
        }
    }
    assert_eq!(parquet[1]["nulls"], 2728);
    assert_eq!(parquet[2]["nulls"], 10_000);
    assert_eq!(parquet[0]["type"], "integer");
}

/// The checks that assemble rows see a Parquet file's rows as they see a
/// CSV file's: the same duplicates, conflicting labels and leaks (by row
/// number where CSV gives line numbers), the same k-anonymity classes,
/// the same repeated compound keys.
#[test]
fn rows_of_a_parquet_file_are_assembled_as_csv_rows_are() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let a = vec![1i64, 1, 2, 2, 9, 3];
    let b = vec!["x", " X", "x", "x", "z", "q"];
    let y = vec![0i64, 0, 0, 1, 0, 1];
    let mut csv = String::from("a,b,y\n");
    for i in 0..a.len() {
        csv.push_str(&format!("{},{},{}\n", a[i], b[i], y[i]));
    }
    std::fs::write(p.join("eval.csv"), csv).unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("a", Arc::new(Int64Array::from(a)) as ArrayRef),
        ("b", Arc::new(StringArray::from(b)) as ArrayRef),
        ("y", Arc::new(Int64Array::from(y)) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&p.join("eval.parquet"), &batch);
    std::fs::write(p.join("train.csv"), "a,b,y\n9,z,1\n").unwrap();
    let options = poison::Options {
        label: Some("y".into()),
        leak_from: Some(p.join("train.csv")),
        near: None,
        reference: None,
        max_label_shift: 0.1,
        groups: Vec::new(),
        min_share: 0.0,
        outliers: None,
        label_issues: None,
    };
    let findings = |name: &str| -> Vec<(String, Vec<u64>)> {
        let r = poison::check(&p.join(name), &options, &Reading::default(), &Quiet).unwrap();
        let mut found: Vec<(String, Vec<u64>)> = r
            .findings
            .iter()
            .map(|f| (f.kind.name().to_string(), f.rows.clone()))
            .collect();
        found.sort();
        found
    };
    let parquet = findings("eval.parquet");
    assert_eq!(
        parquet,
        [
            ("conflicting-labels".to_string(), vec![3, 4]),
            ("duplicate".to_string(), vec![1, 2]),
            ("leak".to_string(), vec![5]),
        ]
    );
    // CSV names lines: the header is line 1.
    let csv: Vec<(String, Vec<u64>)> = findings("eval.csv")
        .into_iter()
        .map(|(k, rows)| (k, rows.into_iter().map(|r| r - 1).collect()))
        .collect();
    assert_eq!(csv, parquet);

    let quasi = vec!["a".to_string(), "b".to_string()];
    let k_of = |name: &str| {
        let path = p.join(name);
        let q = risk::Query {
            path: &path,
            quasi: &quasi,
            sensitive: None,
            min_k: 2,
            min_l: 2,
            max_rows: 20,
        };
        let r = risk::measure(&q, &Reading::default(), &Quiet).unwrap();
        (r.k, r.classes)
    };
    assert_eq!(k_of("eval.parquet").0, 1);
    assert_eq!(k_of("eval.csv"), k_of("eval.parquet"));

    // A compound key: (2, "x") repeats once, in row 4 (line 5).
    let failure = |name: &str| {
        let e =
            rampart_profile::expect::Expectations::parse("unique_together = [[\"a\", \"b\"]]\n")
                .unwrap();
        let r = validate::validate(&p.join(name), e, 0.5, &Reading::default(), &Quiet).unwrap();
        r.failures.into_iter().next().expect("a repeated key")
    };
    let (from_csv, from_parquet) = (failure("eval.csv"), failure("eval.parquet"));
    assert_eq!(from_parquet.failing_rows, 1);
    assert_eq!(from_parquet.rows[0].0, 4);
    assert_eq!(from_csv.rows[0].0, 5);
    assert_eq!(from_csv.observed, from_parquet.observed);
}
