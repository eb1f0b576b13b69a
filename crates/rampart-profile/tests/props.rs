//! Arbitrary values and arbitrary profile JSON never panic; suggestions
//! hold on the values they came from; merging a profile with itself
//! doubles its rows.

#![cfg(test)]

use proptest::prelude::*;
use rampart_profile::drift::{compare, Options, Side};
use rampart_profile::expect::{suggest, Expectations, Validator};
use rampart_profile::Profile;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_values_profile_suggest_and_validate(values in proptest::collection::vec("\\PC{0,12}|[0-9.eE+-]{1,8}|NaN|inf|", 1..80)) {
        let mut p = Profile::default();
        for v in &values {
            p.rows += 1;
            p.observe("x", v);
        }
        let e = suggest(&mut p);
        let text = toml::to_string(&e).unwrap();
        let e = Expectations::parse(&text).unwrap();
        let mut val = Validator::new(e, Box::new(|_, v| v.to_string()));
        for (i, v) in values.iter().enumerate() {
            val.observe(i as u64 + 1, i as u64 + 1, "x", v);
        }
        let failures = val.finish(values.len() as u64);
        prop_assert!(failures.is_empty(), "suggestions fail on their own data: {:?}\n{}", failures, text);
        let json = p.to_json();
        let mut back = Profile::from_json(&json).unwrap();
        let copy = back.clone();
        back.merge(&copy).unwrap();
        prop_assert_eq!(back.rows, 2 * p.rows);
    }

    #[test]
    fn arbitrary_json_is_an_error_or_a_profile(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let Ok(mut p) = Profile::from_json(&v) {
                let _ = p.to_json();
            }
        }
    }

    /// Any values, numbers or not, huge or not finite, give a matrix and
    /// scores between 0 and 1 for every row, without a panic.
    #[test]
    fn outlier_scores_of_any_values_are_probabilities(
        values in proptest::collection::vec(
            prop_oneof![
                any::<f64>().prop_map(|v| v.to_string()),
                "[a-c]{0,2}",
                Just("1e308".to_string()),
                Just("-1e308".to_string()),
                Just("NaN".to_string()),
            ],
            0..120,
        ),
        trees in 1usize..8,
    ) {
        use rampart_profile::outliers::{Encoding, FeatureBuilder, Forest, Settings};
        let mut b = FeatureBuilder::new(&[("n".into(), Encoding::Number), ("c".into(), Encoding::Category)]);
        for (i, pair) in values.chunks(2).enumerate() {
            b.start_row(i as u64 + 1, i as u64 + 2);
            for (column, v) in ["n", "c"].iter().zip(pair) {
                b.set(column, v);
            }
        }
        let (m, rows) = b.finish();
        let scores = Forest::fit(&m, Settings { trees, sample: 16, seed: 3 }).score_all(&m);
        prop_assert_eq!(scores.len(), rows.len());
        prop_assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{:?}", scores);
    }

    /// Rows of any text: duplicates, near duplicates, balance and trigger
    /// counting never panic, findings name real records, and every record
    /// a trigger finding names has the word.
    #[test]
    fn poison_checks_on_any_rows(
        rows in proptest::collection::vec(("[ a-c,.]{0,12}", "[xy]{0,1}"), 0..200),
    ) {
        use rampart_profile::{balance::Balance, duplicates::{Duplicates, Row}, triggers::{Thresholds, TriggerRows, Triggers}};
        let rows: Vec<Row> = rows
            .iter()
            .enumerate()
            .map(|(i, (text, label))| {
                let mut r = Row::new(i as u64 + 1, i as u64 + 2);
                r.set("text", text);
                r.set("y", label);
                r
            })
            .collect();
        let mut d = Duplicates::new(Some("y".into()));
        let mut b = Balance::new(Some("y".into()), vec!["text".into()]);
        let mut t = Triggers::new("y".into());
        let mut n = rampart_profile::near::NearDuplicates::new(Some("y".into()), 0.5);
        for r in rows.iter().take(20) {
            n.add_reference(r);
        }
        for r in &rows {
            let seen = d.add(r);
            n.add(r, seen);
            b.add(r);
            t.add(r);
        }
        let _ = (d.findings(), b.findings(0.1), b.label_shift(&b, 0.0));
        for f in n.findings() {
            prop_assert!(f.drop.iter().all(|r| *r >= 1 && *r as usize <= rows.len()), "{:?}", f);
        }
        let loose = Thresholds { min_rows: 1, max_share: 1.0, purity: 0.5, lift: 1.0 };
        let mut found = t.findings(loose);
        let mut named = TriggerRows::new(&mut found);
        for r in &rows {
            named.add(r);
        }
        for f in &found {
            let word = f.value.clone().unwrap_or_default();
            for record in &f.drop {
                let text = rows[*record as usize - 1].value("text").unwrap_or("");
                prop_assert!(text.contains(word.as_str()), "{word:?} not in {text:?}");
            }
        }
    }

    /// Drift between any two sides, raw or profiled, never panics and
    /// gives probabilities and shares.
    #[test]
    fn drift_of_any_values(
        a in proptest::collection::vec("\\PC{0,6}|[0-9.eE+-]{1,8}|NaN|", 1..60),
        b in proptest::collection::vec("\\PC{0,6}|[0-9.eE+-]{1,8}|NaN|", 1..60),
        limit in 0usize..40,
    ) {
        let side = |values: &[String]| {
            let mut s = Side::new(limit);
            let mut p = Profile::default();
            for (i, v) in values.iter().enumerate() {
                let column = ["x", "y"][i % 2];
                s.observe(column, v);
                p.observe(column, v);
            }
            (s, Side::from_profile(&p))
        };
        let ((ra, pa), (rb, pb)) = (side(&a), side(&b));
        for (x, y) in [(&ra, &rb), (&pa, &rb), (&ra, &pb), (&pa, &pb)] {
            let r = compare(x, y, &Options::default());
            prop_assert!((0.0..=1.0).contains(&r.drift_share));
            for c in &r.columns {
                for p in [c.p_value, c.p_adjusted].into_iter().flatten() {
                    prop_assert!((0.0..=1.0).contains(&p), "{c:?}");
                }
            }
        }
    }

    /// Confident learning on any labels and probabilities (even rows that
    /// do not sum to one, labels out of range) never panics and never
    /// flags a row whose label it cannot read.
    #[test]
    fn label_issues_of_any_probabilities(
        classes in 1usize..5,
        rows in proptest::collection::vec((0usize..6, proptest::collection::vec(0.0f64..1.0, 5)), 0..80),
    ) {
        use rampart_profile::labels::{find_label_issues, Probabilities};
        let labels: Vec<usize> = rows.iter().map(|r| r.0).collect();
        let values: Vec<f64> = rows.iter().flat_map(|r| r.1.iter().take(classes).copied()).collect();
        let flags = find_label_issues(&labels, &Probabilities { values: &values, classes });
        prop_assert_eq!(flags.len(), labels.len());
        for (f, l) in flags.iter().zip(&labels) {
            prop_assert!(!*f || *l < classes);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Numbers handed over in batches of any size (as a columnar reader
    /// does) summarise as their text does; the top values' counts are
    /// lower bounds off by at most n / 65 (Misra-Gries with 64 counters).
    #[test]
    fn numbers_in_any_batches_summarise_as_their_text(
        values in proptest::collection::vec(prop_oneof![
            (0u8..20).prop_map(f64::from),
            -1e6f64..1e6,
            Just(f64::NAN),
        ], 1..20_000),
        cuts in proptest::collection::vec(1usize..5_000, 1..10),
    ) {
        use rampart_profile::{Column, Kind};
        let mut text = Column::new("x");
        for v in &values {
            text.observe(&v.to_string());
        }
        let mut typed = Column::new("x");
        let mut rest = values.as_slice();
        for &c in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at(c.min(rest.len()));
            typed.record_numbers(Kind::Float, batch, 0);
            rest = tail;
        }
        let (a, b) = (text.summary(), typed.summary());
        for k in ["count", "distinct", "non_finite", "min", "max", "quantiles", "top"] {
            prop_assert_eq!(&a[k], &b[k], "{}", k);
        }
        let mut exact: std::collections::HashMap<String, u64> = Default::default();
        for v in &values {
            *exact.entry(v.to_string()).or_default() += 1;
        }
        let slack = values.len() as u64 / 65;
        for pair in b["top"].as_array().unwrap() {
            let (v, n) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
            let truth = exact.get(v).copied().unwrap_or(0);
            prop_assert!(n <= truth && n + slack >= truth, "{} counted {} of {}", v, n, truth);
        }
    }
}
