//! Property tests for each model-format parser: random bytes, and the
//! corpus samples of that format mutated (bytes flipped, inserted,
//! removed, truncated), never panic and always return.

#![cfg(test)]

use proptest::prelude::*;
use rampart_scan::fuzzing;
use std::path::Path;

/// Samples under examples/ whose name ends with one of `exts`.
fn samples(exts: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out: Vec<Vec<u8>> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| exts.iter().any(|x| e.path().to_string_lossy().ends_with(x)))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    assert!(!out.is_empty(), "no samples for {exts:?}");
    out.truncate(16);
    out
}

fn mutate(mut data: Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    for (at, byte, kind) in edits {
        if data.is_empty() {
            data.push(*byte);
            continue;
        }
        let i = at.index(data.len());
        match kind {
            0 => data[i] = *byte,
            1 => data.insert(i, *byte),
            2 => {
                data.remove(i);
            }
            _ => data.truncate(i),
        }
    }
    data
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
    proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn gguf_never_panics(pick in any::<prop::sample::Index>(), e in edits(), tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let files = samples(&[".gguf"]);
        let _ = fuzzing::gguf(&mutate(pick.get(&files).clone(), &e));
        let mut random = b"GGUF\x03\x00\x00\x00".to_vec();
        random.extend_from_slice(&tail);
        let _ = fuzzing::gguf(&random);
    }

    #[test]
    fn onnx_and_tensorflow_never_panic(pick in any::<prop::sample::Index>(), e in edits(), random in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let files = samples(&[".onnx", ".pb"]);
        let data = mutate(pick.get(&files).clone(), &e);
        let _ = fuzzing::onnx(&data);
        let _ = fuzzing::tensorflow(&data);
        let _ = fuzzing::onnx(&random);
        let _ = fuzzing::tensorflow(&random);
    }

    #[test]
    fn tflite_never_panics(pick in any::<prop::sample::Index>(), e in edits(), tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let files = samples(&[".tflite"]);
        let _ = fuzzing::tflite(&mutate(pick.get(&files).clone(), &e));
        let mut random = tail.clone();
        random.splice(0..0, [16u8, 0, 0, 0, b'T', b'F', b'L', b'3']);
        let _ = fuzzing::tflite(&random);
    }

    #[test]
    fn hdf5_never_panics(pick in any::<prop::sample::Index>(), e in edits()) {
        let files = samples(&[".h5"]);
        let _ = fuzzing::hdf5(&mutate(pick.get(&files).clone(), &e));
    }

    #[test]
    fn keras_configs_and_templates_never_panic(pick in any::<prop::sample::Index>(), e in edits(), text in "\\PC{0,300}") {
        let files = samples(&["model.json", "tokenizer_config.json"]);
        let data = mutate(pick.get(&files).clone(), &e);
        let _ = fuzzing::keras_config(&data);
        let _ = fuzzing::template(&String::from_utf8_lossy(&data));
        let _ = fuzzing::template(&text);
        let _ = fuzzing::torchscript(&text);
        let _ = fuzzing::yaml_tags(&String::from_utf8_lossy(&data));
        let _ = fuzzing::yaml_tags(&text);
    }

    #[test]
    fn yaml_python_tags_never_panic_and_dangerous_calls_stay_found(
        before in "(%TAG ![a-z]! tag:yaml.org,2002:(python/)?\n)?\\PC{0,40}",
        tag in "(!!python/|![a-z]?!|!<tag:yaml.org,2002:python/|tag:yaml.org,2002:python/)[a-z/]{0,14}:?[a-zA-Z._]{0,20}[ \\[\\]{}>,'\x22]?",
        after in "\\PC{0,40}",
    ) {
        let text = format!("{before}{tag}{after}");
        let _ = fuzzing::yaml_tags(&text);
        // Whatever surrounds it, a call of os.system is found.
        let call = format!("{before}\na: !!python/object/apply:os.system [ls]\n{after}");
        let found = fuzzing::yaml_tags(&call);
        prop_assert!(
            found.iter().any(|f| f.severity == rampart_core::Severity::Critical),
            "{call:?}: {found:?}"
        );
    }
}

/// The mutation strategy can fail a check: a truncated GGUF is reported.
#[test]
fn a_truncated_gguf_is_reported_not_passed() {
    let files = samples(&["benign/gguf/model.gguf"]);
    let cut = &files[0][..files[0].len() / 2];
    let found = fuzzing::gguf(cut);
    assert!(found.iter().any(|f| f.rule == "GGUF-INVALID"), "{found:?}");
}
