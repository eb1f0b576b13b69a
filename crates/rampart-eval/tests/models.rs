#![cfg(test)]
//! tract's outputs equal onnxruntime's (recorded by
//! tools/gen_eval_models.py) to 1e-5 on every fixture model: each
//! exporter and kind the evaluation gates claim.

use rampart_eval::model::{Column, Model};
use std::path::Path;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn flatten(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn predictions_equal_onnxruntime() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap();
    let cases = expected.as_object().unwrap();
    for name in [
        "logreg",
        "forest",
        "gboost",
        "mlp",
        "gbreg",
        "rfreg",
        "cnn",
        "cnn_reshape",
        "xgboost",
        "lightgbm",
    ] {
        assert!(
            cases.contains_key(name),
            "no fixture {name}: regenerate them"
        );
    }
    for (name, case) in cases {
        let model = Model::load(&std::fs::read(fixtures().join(format!("{name}.onnx"))).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut x = Vec::new();
        flatten(&case["inputs"], &mut x);
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let trees = ["forest", "gboost", "gbreg", "rfreg", "xgboost", "lightgbm"];
        assert_eq!(
            model.runs_natively(),
            trees.contains(&name.as_str()),
            "{name}"
        );
        let outs = model.predict(&x).unwrap();
        let want = case["outputs"].as_object().unwrap();
        assert_eq!(outs.len(), want.len(), "{name}: outputs");
        for (spec, got) in model.outputs().iter().zip(&outs) {
            let mut w = Vec::new();
            flatten(&want[&spec.name], &mut w);
            let got: Vec<f64> = match got {
                Column::Int(v) => v.iter().map(|&i| i as f64).collect(),
                Column::Float(v) => v.clone(),
            };
            assert_eq!(got.len(), w.len(), "{name}/{}", spec.name);
            for (i, (a, b)) in got.iter().zip(&w).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5,
                    "{name}/{} [{i}]: tract {a}, onnxruntime {b}",
                    spec.name
                );
            }
        }
    }
}

#[test]
fn batches_across_threads_give_the_rows_in_order() {
    // More rows than one batch: the order of outputs must be the rows'.
    let model = Model::load(&std::fs::read(fixtures().join("gboost.onnx")).unwrap()).unwrap();
    let rows = 10_000;
    let x: Vec<f32> = (0..rows * 5).map(|i| ((i * 7919) % 100) as f32).collect();
    let all = model.predict(&x).unwrap();
    let one = model.predict(&x[5 * 9_000..5 * 9_001]).unwrap();
    match (&all[1], &one[1]) {
        (Column::Float(a), Column::Float(b)) => assert_eq!(&a[2 * 9_000..2 * 9_001], &b[..]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_operator_tract_lacks_is_named() {
    // A graph with one node of an operator tract does not have.
    let bytes = tract_model_with_op("ZipMap", "ai.onnx.ml");
    let e = Model::load(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("tract cannot run the operator ZipMap (ai.onnx.ml)"),
        "{e}"
    );
}

/// A minimal ModelProto (hand-encoded protobuf): graph { node { op_type,
/// domain } }.
fn tract_model_with_op(op: &str, domain: &str) -> Vec<u8> {
    fn field(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, body.len() as u8];
        v.extend_from_slice(body);
        v
    }
    let mut node = field(0x22, op.as_bytes()); // op_type = 4
    node.extend(field(0x3a, domain.as_bytes())); // domain = 7
    let graph = field(0x0a, &node); // node = 1
    let mut model = vec![0x08, 0x07]; // ir_version = 7
    model.extend(field(0x3a, &graph)); // graph = 7
    model
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bytes in [&b""[..], b"\x00\x01\x02", b"not a model at all"] {
        assert!(Model::load(bytes).is_err());
    }
}

#[test]
fn a_panic_inside_tract_is_an_error() {
    // A logistic regression whose input says 4 features and whose weights
    // have 5: tract asserts while running it. An error naming tract, not
    // a crash of the process.
    let bytes = std::fs::read(fixtures().join("inconsistent.onnx")).unwrap();
    let e = match Model::load(&bytes) {
        Err(e) => e.to_string(),
        Ok(m) => m.predict(&[0.5; 8]).unwrap_err().to_string(),
    };
    assert!(e.contains("tract"), "{e}");
}

mod mutated {
    use super::*;
    use proptest::prelude::*;

    fn seeds() -> Vec<Vec<u8>> {
        ["logreg", "gboost", "gbreg", "mlp"]
            .iter()
            .map(|n| std::fs::read(fixtures().join(format!("{n}.onnx"))).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Random bytes, and real models with bytes flipped, cut or
        /// spliced: an error or a model, never a panic.
        #[test]
        fn mutated_models_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<prop::sample::Index>(),
            noise in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = seeds().swap_remove(which);
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            bytes.extend(noise);
            if let Ok(m) = Model::load(&bytes) {
                let w = m.features();
                if (1..=4096).contains(&w) {
                    let _ = m.predict(&vec![0.5; 2 * w]);
                }
            }
        }
    }
}
