//! Personal data found by column, and re-identification risk.

#![cfg(test)]

use rampart_dataset::{pii, risk, Quiet, Reading};

/// Columns are classified by what most of their values hold; an id
/// column of numbers is not personal data, and examples are masked.
#[test]
fn tables_are_classified_by_column() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("people.csv");
    std::fs::write(
        &path,
        "id,name,email,dob,card,notes\n\
         1,Mary Johnson,mary@example.com,1985-03-12,4111 1111 1111 1111,call 020 7946 0958\n\
         2,Rahul Sharma,rahul@example.in,12/03/1990,5555555555554444,SSN 078-05-1120\n",
    )
    .unwrap();
    let scan = pii::scan(&[path], &Reading::default(), 0.5, 100, &Quiet).unwrap();
    let file = &scan.files[0];
    assert_eq!(file.format, "csv");
    let cols: Vec<(&str, &str)> = file
        .pii_columns
        .iter()
        .map(|c| (c.column.as_str(), c.entity))
        .collect();
    for want in [
        ("name", "PERSON"),
        ("email", "EMAIL_ADDRESS"),
        ("dob", "DATE_OF_BIRTH"),
        ("card", "CREDIT_CARD"),
    ] {
        assert!(cols.contains(&want), "{want:?} in {cols:?}");
    }
    assert!(!cols.iter().any(|(c, _)| *c == "id"), "{cols:?}");
    let examples = file.pii_columns.iter().flat_map(|c| &c.examples);
    assert!(
        !examples.clone().any(|e| e.contains("mary@example.com")),
        "examples are masked: {:?}",
        examples.collect::<Vec<_>>()
    );
}

/// k is the smallest class over the quasi-identifiers, l the fewest
/// sensitive values in a class; the rows of classes under k are named by
/// line; a missing column is an error naming it.
#[test]
fn risk_measures_k_and_l() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("d.csv");
    let mut csv = String::from("age,zip,sex,diagnosis\n");
    for i in 0..6 {
        csv.push_str(&format!("30,94107,F,{}\n", ["flu", "cold"][i % 2]));
    }
    csv.push_str("71,10001,M,gout\n");
    std::fs::write(&path, &csv).unwrap();
    let quasi = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let q = quasi(&["age", "zip", "sex"]);
    let query = risk::Query {
        path: &path,
        quasi: &q,
        sensitive: Some("diagnosis"),
        min_k: 5,
        min_l: 2,
        max_rows: 20,
    };
    let r = risk::measure(&query, &Reading::default(), &Quiet).unwrap();
    assert_eq!((r.k, r.classes, r.rows_below_k), (1, 2, 1));
    assert_eq!(r.rows_at_risk, vec![8]);
    assert_eq!(r.l, Some(1));
    assert!(!r.passed);

    let zip = quasi(&["zip"]);
    let ok = risk::Query {
        quasi: &zip,
        sensitive: None,
        min_k: 1,
        ..query
    };
    assert!(
        risk::measure(&ok, &Reading::default(), &Quiet)
            .unwrap()
            .passed
    );

    let missing = quasi(&["postcode"]);
    let e = risk::measure(
        &risk::Query {
            quasi: &missing,
            ..ok
        },
        &Reading::default(),
        &Quiet,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("\"postcode\": no such column"),
        "{e}"
    );
}
