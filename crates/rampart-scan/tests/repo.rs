//! Model-repository checks and formats recognised but not analysed.

use rampart_core::NoProgress;
use rampart_scan::Scanner;

fn scan_dir(files: &[(&str, &[u8])]) -> Vec<(String, String)> {
    let d = tempfile::tempdir().unwrap();
    for (name, data) in files {
        std::fs::write(d.path().join(name), data).unwrap();
    }
    let (report, errors) = Scanner::default().scan_paths(&[d.path().to_path_buf()], &NoProgress);
    assert!(errors.is_empty());
    report
        .findings
        .into_iter()
        .map(|f| {
            let name = std::path::Path::new(&f.location.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, f.rule)
        })
        .collect()
}

fn has(found: &[(String, String)], file: &str, rule: &str) -> bool {
    found.iter().any(|(f, r)| f == file && r == rule)
}

#[test]
fn remote_code_and_code_files() {
    let found = scan_dir(&[
        (
            "config.json",
            br#"{"auto_map": {"AutoModel": "modeling_x.M"}}"#,
        ),
        ("modeling_x.py", b"import os\n"),
        ("weights.bin.so", b"\x7fELF\x02\x01\x01\x00"),
        ("run", b"#!/bin/sh\necho\n"),
        ("tokenizer_config.json", b"{\"a\": 1}"),
    ]);
    assert!(has(&found, "config.json", "REPO-REMOTE-CODE"), "{found:?}");
    assert!(has(&found, "modeling_x.py", "REPO-CODE-FILE"), "{found:?}");
    assert!(has(&found, "weights.bin.so", "REPO-CODE-FILE"), "{found:?}");
    assert!(has(&found, "run", "REPO-CODE-FILE"), "{found:?}");
    // Valid JSON without auto_map is neither a finding nor "unknown".
    assert!(
        !found.iter().any(|(f, _)| f == "tokenizer_config.json"),
        "{found:?}"
    );
    // One finding per code file, not one by name and one by content.
    assert_eq!(
        found.iter().filter(|(f, _)| f == "weights.bin.so").count(),
        1,
        "{found:?}"
    );
}

#[test]
fn broken_json_is_reported() {
    let found = scan_dir(&[("tokenizer.json", b"{\"a\": ")]);
    assert!(
        has(&found, "tokenizer.json", "REPO-INVALID-JSON"),
        "{found:?}"
    );
}

#[test]
fn broken_headers_of_recognised_formats_are_never_clean() {
    let found = scan_dir(&[
        ("m.tflite", b"\x1c\x00\x00\x00TFL3\x00\x00"),
        ("m.h5", b"\x89HDF\r\n\x1a\n\x00\x00"),
        ("m.gguf", b"GGUF\x03\x00\x00\x00\x01"),
        ("m.onnx", b"\x08\x08\x3a\x7f"),
    ]);
    assert!(has(&found, "m.tflite", "TFLITE-INVALID"), "{found:?}");
    assert!(has(&found, "m.h5", "SCAN-CORRUPT"), "{found:?}");
    assert!(has(&found, "m.gguf", "GGUF-INVALID"), "{found:?}");
    assert!(has(&found, "m.onnx", "ONNX-INVALID"), "{found:?}");
}

#[test]
fn a_pickle_dressed_as_gguf_is_still_read_as_a_pickle() {
    // 'G' is BINFLOAT: "GGUF" + 5 bytes is a float, then a payload.
    let mut p = b"GGUF\x03\x00\x00\x00\x00".to_vec();
    p.extend_from_slice(b"cos\nsystem\n(S'id'\ntR.");
    let f = Scanner::default().scan_bytes("m.gguf", &p);
    let rules: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"GGUF-INVALID"), "{rules:?}");
    assert!(rules.contains(&"PICKLE-EXEC"), "{rules:?}");
}
