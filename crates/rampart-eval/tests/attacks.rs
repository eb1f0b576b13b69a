#![cfg(test)]
//! The attacks on the README's Adult model: every adversarial example
//! they report is checked against the model itself (it really is
//! classified otherwise), against the data's constraints, and against the
//! budget; runs are reproducible by seed.

use rampart_eval::attack::{Attack, Options as AttackOptions, Report};
use rampart_eval::model::{Column, Model};
use rampart_eval::{data::Mapping, evaluate, Bootstrap, Options};
use std::path::PathBuf;

const FEATURES: [&str; 5] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
];

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn options(attacks: AttackOptions) -> Options {
    Options {
        model: root().join("examples/eval/adult-gb.onnx"),
        data: root().join("datasets/adult-test.csv.gz"),
        mapping: Mapping {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            label: Some("income".into()),
            groups: Vec::new(),
            slices: Vec::new(),
        },
        classes: vec!["<=50K".into(), ">50K".into()],
        bootstrap: Bootstrap {
            resamples: 0,
            ..Bootstrap::default()
        },
        attacks: Some(attacks),
        ..Options::default()
    }
}

fn attacks(list: &[Attack], rows: usize) -> AttackOptions {
    AttackOptions {
        attacks: list.to_vec(),
        rows,
        queries: 500,
        seed: 7,
        ..AttackOptions::default()
    }
}

fn model() -> Model {
    Model::load(&std::fs::read(root().join("examples/eval/adult-gb.onnx")).unwrap()).unwrap()
}

/// The model's class for each example, asked afresh.
fn classes_of(m: &Model, r: &Report) -> Vec<u32> {
    let x: Vec<f32> = r.examples.iter().flat_map(|e| e.x.clone()).collect();
    let out = m.predict(&x).unwrap();
    out.iter()
        .find_map(|c| match c {
            Column::Int(v) => Some(v.iter().map(|&l| l as u32).collect()),
            _ => None,
        })
        .unwrap()
}

/// Each feature's smallest and largest value in the data.
fn ranges() -> Vec<(f32, f32)> {
    let t = rampart_eval::data::read(
        &root().join("datasets/adult-test.csv.gz"),
        &options(attacks(&[], 1)).mapping,
        &rampart_table::Options::default(),
    )
    .unwrap();
    (0..FEATURES.len())
        .map(|j| {
            let col = t.x.iter().skip(j).step_by(FEATURES.len());
            let lo = col.clone().copied().fold(f32::INFINITY, f32::min);
            let hi = col.copied().fold(f32::NEG_INFINITY, f32::max);
            (lo, hi)
        })
        .collect()
}

#[test]
fn every_attack_turns_the_model_within_the_data_and_the_budget() {
    let all = [
        Attack::HopSkipJump,
        Attack::Simba,
        Attack::Square,
        Attack::Boundary,
        Attack::Tabular,
    ];
    let e = evaluate(&options(attacks(&all, 60))).unwrap();
    assert_eq!(e.robustness.len(), all.len());
    let m = model();
    let truth: Vec<u32> = match e.predictions.as_ref().unwrap() {
        rampart_eval::Predictions::Classes { truth, .. } => truth.clone(),
        _ => panic!("a classifier"),
    };
    let ranges = ranges();
    for r in &e.robustness {
        assert_eq!(r.attacked, 60, "{:?}", r.attack);
        assert_eq!(r.succeeded, r.examples.len());
        assert!(
            r.success_rate.unwrap() > 0.5,
            "{:?}: {:?}",
            r.attack,
            r.success_rate
        );
        assert!(r.queries.max.unwrap() <= 500.0, "{:?} overspent", r.attack);
        let now = classes_of(&m, r);
        for (ex, c) in r.examples.iter().zip(now) {
            assert_ne!(
                c, truth[ex.row],
                "{:?}: row {} not turned",
                r.attack, ex.row
            );
            assert_eq!(c, ex.predicted);
            for (v, (lo, hi)) in ex.x.iter().zip(&ranges) {
                assert!(
                    *v >= *lo && *v <= *hi,
                    "{:?}: {v} outside [{lo}, {hi}]",
                    r.attack
                );
            }
        }
        assert!(r.l2.median.unwrap() > 0.0);
        assert_eq!(r.l2_histogram.iter().sum::<u64>() as usize, r.succeeded);
    }
}

#[test]
fn the_tabular_search_keeps_to_the_datas_terms() {
    let mut o = attacks(&[Attack::Tabular], 80);
    o.immutable = vec!["age".into(), "capital_gain".into()];
    o.categorical = vec!["education_num".into()];
    let e = evaluate(&options(o)).unwrap();
    let r = &e.robustness[0];
    assert!(r.succeeded > 0, "{r:?}");
    let t = rampart_eval::data::read(
        &root().join("datasets/adult-test.csv.gz"),
        &options(attacks(&[], 1)).mapping,
        &rampart_table::Options::default(),
    )
    .unwrap();
    let seen: std::collections::BTreeSet<i64> =
        t.x.iter().skip(1).step_by(5).map(|&v| v as i64).collect();
    for ex in &r.examples {
        let original = &t.x[ex.row * 5..ex.row * 5 + 5];
        assert_eq!(ex.x[0], original[0], "age is immutable");
        assert_eq!(ex.x[2], original[2], "capital_gain is immutable");
        assert!(seen.contains(&(ex.x[1] as i64)) && ex.x[1].fract() == 0.0);
        for v in &ex.x {
            assert_eq!(v.fract(), 0.0, "integer columns stay whole: {v}");
        }
    }
    // Features changed are few: the search shrinks what it found.
    assert!(r.changed.median.unwrap() <= 2.0, "{:?}", r.changed);
}

#[test]
fn attacks_are_reproducible_by_seed_and_differ_across_seeds() {
    let run = |seed| {
        let mut o = attacks(&[Attack::HopSkipJump], 30);
        o.seed = seed;
        evaluate(&options(o)).unwrap().robustness.remove(0)
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a, b);
    assert_eq!(a.examples, b.examples);
    assert_ne!(a.examples, c.examples);
}

#[test]
fn a_targeted_attack_reaches_its_class_only() {
    let mut o = attacks(&[Attack::Boundary, Attack::Tabular], 40);
    o.target = Some(">50K".into());
    let e = evaluate(&options(o)).unwrap();
    let m = model();
    for r in &e.robustness {
        assert_eq!(r.target.as_deref(), Some(">50K"));
        assert!(r.succeeded > 0);
        assert!(classes_of(&m, r).iter().all(|&c| c == 1), "{:?}", r.attack);
    }
}

#[test]
fn a_threshold_on_success_fails_and_nothing_attacked_is_not_a_pass() {
    use rampart_eval::{judge, Bound, Threshold};
    let e = evaluate(&options(attacks(&[Attack::Tabular], 50))).unwrap();
    let strict = Threshold::parse(Bound::Max, "tabular_success_rate=0.1").unwrap();
    let v = judge(&e, &[strict], false);
    assert!(!v.passed);
    let findings = rampart_eval::judge::findings(&e, &v);
    assert!(findings.iter().any(|f| f.rule == "EVAL-ROBUSTNESS"));
    // A minimum on a success rate, or a rate outside [0, 1], is refused.
    assert!(Threshold::parse(Bound::Min, "tabular_success_rate=0.5").is_err());
    assert!(Threshold::parse(Bound::Max, "tabular_success_rate=1.5").is_err());
    // A threshold on an attack that did not run cannot pass.
    let other = Threshold::parse(Bound::Max, "simba_success_rate=1").unwrap();
    assert!(!judge(&e, &[other], false).passed);
    // Every row the target already: nothing to attack, no rate.
    let mut o = attacks(&[Attack::Tabular], 50);
    o.target = Some("<=50K".into());
    o.rows = 1;
    let e = evaluate(&options(o)).unwrap();
    assert_eq!(e.robustness[0].attacked, 1);
}

#[test]
fn bad_attack_options_are_refused_by_name() {
    for (o, says) in [
        (
            AttackOptions {
                target: Some("rich".into()),
                ..attacks(&[Attack::Tabular], 5)
            },
            "--target",
        ),
        (
            AttackOptions {
                immutable: vec!["sex".into()],
                ..attacks(&[Attack::Tabular], 5)
            },
            "not a feature",
        ),
        (
            AttackOptions {
                queries: 1,
                ..attacks(&[Attack::Tabular], 5)
            },
            "--queries",
        ),
        (
            AttackOptions {
                epsilon: 0.0,
                ..attacks(&[Attack::Simba], 5)
            },
            "--epsilon",
        ),
        (
            // The data's ages and gains lie outside [0, 1].
            AttackOptions {
                bounds: Some((0.0, 1.0)),
                ..attacks(&[Attack::Tabular], 5)
            },
            "outside them",
        ),
        (
            AttackOptions {
                immutable: FEATURES.iter().map(|s| s.to_string()).collect(),
                ..attacks(&[Attack::Tabular], 5)
            },
            "no feature can change",
        ),
    ] {
        let err = evaluate(&options(o)).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn adversarial_rows_are_written_in_the_datasets_columns() {
    let mut o = attacks(&[Attack::Tabular], 30);
    o.immutable = vec!["age".into()];
    let e = evaluate(&options(o)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("adv.parquet");
    let n = rampart_eval::adversarial::write(&e, &rampart_table::Options::default(), &out).unwrap();
    assert_eq!(n, e.robustness[0].succeeded);
    let file = std::fs::File::open(&out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, n);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "age",
            "workclass",
            "fnlwgt",
            "education",
            "education_num",
            "marital_status",
            "occupation",
            "relationship",
            "race",
            "sex",
            "capital_gain",
            "capital_loss",
            "hours_per_week",
            "native_country",
            "income",
            "source_row",
            "attack"
        ]
    );
    use arrow_array::cast::AsArray;
    let b = &batches[0];
    let income = b.column(14).as_string::<i32>();
    let age = b.column(0).as_primitive::<arrow_array::types::Int64Type>();
    let truth = match e.predictions.as_ref().unwrap() {
        rampart_eval::Predictions::Classes { truth, .. } => truth.clone(),
        _ => panic!(),
    };
    for (i, ex) in e.robustness[0].examples.iter().enumerate() {
        // The true label, the original age (immutable), the line.
        assert_eq!(income.value(i), e.classes[truth[ex.row] as usize]);
        assert_eq!(age.value(i) as f32, ex.x[0]);
        assert_eq!(
            b.column(15)
                .as_primitive::<arrow_array::types::UInt64Type>()
                .value(i),
            ex.line
        );
    }
}
