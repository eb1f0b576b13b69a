#![cfg(test)]
//! The worked example end to end (adult-gb.onnx on the bundled Adult
//! test set): the metrics equal scikit-learn's and the fairness
//! aggregates Fairlearn's, as tools/gen_eval_models.py recorded them
//! from onnxruntime's predictions.

use rampart_eval::{data::Mapping, evaluate, Bootstrap, Error, Options};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn options() -> Options {
    let features = [
        "age",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    ];
    Options {
        model: root().join("examples/eval/adult-gb.onnx"),
        data: root().join("datasets/adult-test.csv.gz"),
        mapping: Mapping {
            features: features.iter().map(|s| s.to_string()).collect(),
            label: Some("income".into()),
            groups: vec!["sex".into(), "race".into()],
            slices: Vec::new(),
        },
        classes: vec!["<=50K".into(), ">50K".into()],
        bootstrap: Bootstrap {
            resamples: 50,
            ..Bootstrap::default()
        },
        min_group: 30,
        ..Options::default()
    }
}

fn reference() -> serde_json::Value {
    let p = root().join("crates/rampart-eval/tests/fixtures/adult_reference.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn metrics_equal_scikit_learns_and_fairness_fairlearns() {
    let e = evaluate(&options()).unwrap();
    let r = reference();
    assert_eq!(e.rows as u64, r["rows"].as_u64().unwrap());
    for (name, want) in r["metrics"].as_object().unwrap() {
        let got = e
            .metrics
            .iter()
            .find(|m| m.metric.name() == name)
            .unwrap_or_else(|| panic!("no {name}"));
        let (v, want) = (got.value.unwrap(), want.as_f64().unwrap());
        // Decisions are the same as onnxruntime's; probabilities agree
        // to 1e-5 (f32 sums in another order).
        let tol = if got.metric.needs_probabilities() {
            1e-5
        } else {
            1e-12
        };
        assert!((v - want).abs() < tol, "{name}: {v} vs scikit-learn {want}");
        let (lo, hi) = (got.low.unwrap(), got.high.unwrap());
        assert!(lo <= v && v <= hi, "{name}: {lo} {v} {hi}");
    }
    let f = e.fairness.as_ref().unwrap();
    let fr = &r["fairness_sex_race"];
    assert_eq!(f.groups.len() as u64, fr["groups"].as_u64().unwrap());
    for (agg, v) in &f.aggregates {
        let Some(want) = fr.get(agg.name()) else {
            continue;
        };
        let v = v.unwrap();
        assert!(
            (v - want.as_f64().unwrap()).abs() < 1e-12,
            "{}: {v} vs Fairlearn {want}",
            agg.name()
        );
    }
    // Small intersectional groups are reported, not dropped: the
    // smallest group of sex x race has fewer than 200 rows.
    let smallest = f.groups.iter().map(|g| g.count).min().unwrap();
    assert!(smallest < 200, "{smallest}");
    assert!(!f.groups.iter().any(|g| g.small), "none under 30");
    let mut o = options();
    o.min_group = 200;
    let f = evaluate(&o).unwrap().fairness.unwrap();
    assert!(f.groups.iter().any(|g| g.small));
    assert!(!f.four_fifths.not_judged.is_empty());
    assert_eq!(
        f.groups.len() as u64,
        fr["groups"].as_u64().unwrap(),
        "none dropped"
    );
}

#[test]
fn the_same_seed_gives_the_same_intervals() {
    let a = evaluate(&options()).unwrap();
    let b = evaluate(&options()).unwrap();
    assert_eq!(a.metrics, b.metrics);
    let mut o = options();
    o.bootstrap.seed = 1;
    assert_ne!(evaluate(&o).unwrap().metrics, a.metrics);
}

#[test]
fn a_locked_evaluation_set_refuses_another_file() {
    let mut o = options();
    let actual = rampart_eval::file_sha256(&o.data).unwrap();
    o.data_sha256 = Some(format!("sha256:{actual}"));
    assert!(evaluate(&o).is_ok());
    o.data_sha256 = Some(format!("SHA256:{}", actual.to_uppercase()));
    assert!(evaluate(&o).is_ok(), "any case");
    o.data_sha256 = Some(format!("sha256:{}", "0".repeat(64)));
    assert!(matches!(evaluate(&o), Err(Error::Locked { .. })));
    for bad in ["sha256:4281015979", "md5:abc", ""] {
        o.data_sha256 = Some(bad.into());
        let e = evaluate(&o).unwrap_err().to_string();
        assert!(e.contains("is not a SHA-256 digest"), "{bad}: {e}");
    }
}

#[test]
fn mapping_mistakes_are_named() {
    let mut o = options();
    o.classes = vec!["no".into(), "yes".into()];
    let e = evaluate(&o).unwrap_err().to_string();
    assert!(
        e.contains("the label \"<=50K\" is not one of the model's classes (no, yes)"),
        "{e}"
    );
    let mut o = options();
    o.mapping.features.pop();
    let e = evaluate(&o).unwrap_err().to_string();
    assert!(e.contains("4 feature columns"), "{e}");
    assert!(e.contains("takes 5"), "{e}");
    let mut o = options();
    o.privileged = vec![("sex".into(), "Male".into())];
    let e = evaluate(&o).unwrap_err().to_string();
    assert!(
        e.contains("no value for the sensitive feature \"race\""),
        "{e}"
    );
}

#[test]
fn a_regressor_is_measured_as_one() {
    let o = Options {
        model: root().join("crates/rampart-eval/tests/fixtures/gbreg.onnx"),
        mapping: Mapping {
            features: ["age", "capital_gain", "capital_loss", "hours_per_week"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            label: Some("education_num".into()),
            groups: Vec::new(),
            slices: Vec::new(),
        },
        ..options()
    };
    let e = evaluate(&o).unwrap();
    assert_eq!(e.task, rampart_eval::Task::Regression);
    let r2 = e.metrics.iter().find(|m| m.metric.name() == "r2").unwrap();
    assert!(r2.value.unwrap() > 0.0 && r2.value.unwrap() < 1.0);
}

fn comparison(new: &str, old: &str) -> rampart_eval::CompareOptions {
    let mut eval = options();
    eval.mapping.groups = Vec::new();
    eval.mapping.slices = vec!["sex".into(), "age".into()];
    eval.bootstrap.resamples = 100;
    rampart_eval::CompareOptions {
        new: root().join(format!("examples/eval/{new}.onnx")),
        old: root().join(format!("examples/eval/{old}.onnx")),
        eval,
        bins: vec![("age".into(), 4)],
        min_slice: 100,
        ..Default::default()
    }
}

#[test]
fn a_worse_version_regresses_overall_and_on_slices() {
    let c = rampart_eval::compare(&comparison("adult-stump", "adult-gb")).unwrap();
    assert!(!c.passed());
    let acc = c
        .overall
        .iter()
        .find(|j| j.delta.metric.name() == "accuracy")
        .unwrap();
    assert!(acc.regressed && acc.delta.delta.unwrap() < -0.02);
    assert!(
        c.regressed
            .iter()
            .any(|r| r.ends_with("on sex=Female") && r.contains("roc_auc")),
        "{:?}",
        c.regressed
    );
    // Four quantile bins of age, the last closed.
    let ages: Vec<&str> = c
        .slices
        .iter()
        .filter(|s| s.column == "age")
        .map(|s| s.value.as_str())
        .collect();
    assert_eq!(ages.len(), 4, "{ages:?}");
    assert!(ages[3].ends_with(']') && ages[0].ends_with(')'), "{ages:?}");
    let total: usize = c
        .slices
        .iter()
        .filter(|s| s.column == "age")
        .map(|s| s.rows)
        .sum();
    assert_eq!(total, c.rows, "every row in one bin");
    // The default metrics leave precision, which a better model may
    // trade away, unjudged.
    assert!(!c
        .overall
        .iter()
        .any(|j| j.delta.metric.name() == "precision_macro"));
}

#[test]
fn the_same_model_or_a_better_one_does_not_regress() {
    let same = rampart_eval::compare(&comparison("adult-gb", "adult-gb")).unwrap();
    assert!(same.passed(), "{:?}", same.regressed);
    assert!(same.overall.iter().all(|j| j.delta.delta == Some(0.0)));
    let better = rampart_eval::compare(&comparison("adult-gb", "adult-stump")).unwrap();
    assert!(better.passed(), "{:?}", better.regressed);
    // A margin wider than the loss forgives it.
    let mut o = comparison("adult-stump", "adult-gb");
    o.margin = 0.5;
    o.eval.mapping.slices.clear();
    o.bins.clear();
    assert!(rampart_eval::compare(&o).unwrap().passed());
}

#[test]
fn a_text_column_cannot_be_binned() {
    let mut o = comparison("adult-stump", "adult-gb");
    o.bins = vec![("sex".into(), 3)];
    let e = rampart_eval::compare(&o).unwrap_err().to_string();
    assert!(e.contains("sex = \"Male\" is not a number"), "{e}");
}
