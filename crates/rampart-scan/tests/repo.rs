//! Model-repository checks and formats recognised but not analysed.

#![cfg(test)]

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
    // The module auto_map names is reported as remote code too.
    assert!(
        has(&found, "modeling_x.py", "REPO-REMOTE-CODE"),
        "{found:?}"
    );
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

#[test]
fn auto_map_into_another_repository_is_named() {
    let d = tempfile::tempdir().unwrap();
    let cfg =
        br#"{"auto_map": {"AutoModel": "evil/repo--modeling.M", "AutoConfig": "../../etc/x.C"}}"#;
    std::fs::write(d.path().join("config.json"), cfg).unwrap();
    let (report, _) = Scanner::default().scan_paths(&[d.path().to_path_buf()], &NoProgress);
    let remote: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.evidence.get("repository").map(String::as_str) == Some("evil/repo"))
        .collect();
    assert_eq!(remote.len(), 1, "{:#?}", report.findings);
    // A module path with `..` is never looked up outside the folder.
    assert!(report
        .findings
        .iter()
        .all(|f| !f.location.path.contains("etc")));
}

/// A minimal ONNX model, hand-encoded: one float initializer `w` of four
/// elements whose data is external at `location`.
fn onnx_external(location: &str) -> Vec<u8> {
    fn field(num: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![num << 3 | 2, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }
    let mut entry = field(1, b"location");
    entry.extend(field(2, location.as_bytes()));
    let mut tensor = vec![0x08, 4, 0x10, 1]; // dims [4], FLOAT
    tensor.extend(field(8, b"w"));
    tensor.extend(field(13, &entry));
    tensor.extend([14 << 3, 1]); // data_location EXTERNAL
    let graph = field(5, &tensor);
    let mut model = vec![0x08, 8]; // ir_version 8
    model.extend(field(7, &graph));
    model
}

#[cfg(unix)]
#[test]
fn onnx_external_data_links_and_ranges() {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/hostname", d.path().join("link.bin")).unwrap();
    std::fs::write(d.path().join("short.bin"), [0u8; 8]).unwrap();
    std::fs::write(d.path().join("ok.bin"), [0u8; 16]).unwrap();
    std::fs::write(d.path().join("a.onnx"), onnx_external("link.bin")).unwrap();
    std::fs::write(d.path().join("b.onnx"), onnx_external("short.bin")).unwrap();
    std::fs::write(d.path().join("c.onnx"), onnx_external("ok.bin")).unwrap();
    let (report, _) = Scanner::default().scan_paths(&[d.path().to_path_buf()], &NoProgress);
    let sev = |file: &str| {
        report
            .findings
            .iter()
            .filter(|f| f.location.path.ends_with(file) && f.rule == "ONNX-EXTERNAL-DATA")
            .map(|f| f.severity)
            .max()
    };
    assert_eq!(
        sev("a.onnx"),
        Some(rampart_core::Severity::Critical),
        "{:#?}",
        report.findings
    );
    assert_eq!(
        sev("b.onnx"),
        Some(rampart_core::Severity::High),
        "{:#?}",
        report.findings
    );
    assert_eq!(sev("c.onnx"), None, "{:#?}", report.findings);
}

#[test]
fn a_large_json_lines_dataset_is_listed_not_failed() {
    let line = b"{\"text\": \"an ordinary training example\", \"label\": 1}\n";
    let data: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take((64 << 20) + 100)
        .collect();
    let found = scan_dir(&[("train.jsonl", &data)]);
    assert_eq!(
        found,
        vec![("train.jsonl".to_string(), "SCAN-UNKNOWN-FORMAT".to_string())]
    );
}

#[test]
fn template_files_and_yaml_configs_are_analysed_as_templates() {
    let ssti = b"{{ cycler.__init__.__globals__.os.system('whoami') }}";
    let yaml = b"name: chat\nchat_template: \"{{ config.__class__.__init__.__globals__['os'].system('id') }}\"\n";
    // An ordinary chat template and an ordinary config.
    let chat = b"{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}{% endfor %}";
    let config = b"model:\n  hidden_size: 768\n  optim:\n    lr: ${oc.env:LR,0.001}\n";
    // YAML's own quoting ('' for ') is not a broken template.
    let quoted = b"chat_template:\n  '{% for message in messages %}{{ message[''role''] }}: {{ message[''content'']\n  }}\n{% endfor %}'\nmodel_name: test-model\n";
    // A pickle named like a config is still read as one.
    let pickle = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.";
    let found = scan_dir(&[
        ("chat_template.jinja", ssti),
        ("malicious_config.yaml", yaml),
        ("template.j2", chat),
        ("config.yaml", config),
        ("model_config.yaml", quoted),
        ("hparams.yml", pickle),
    ]);
    assert!(
        has(&found, "chat_template.jinja", "TEMPLATE-INJECTION"),
        "{found:?}"
    );
    assert!(
        has(&found, "malicious_config.yaml", "TEMPLATE-INJECTION"),
        "{found:?}"
    );
    assert!(has(&found, "hparams.yml", "PICKLE-EXEC"), "{found:?}");
    for clean in ["template.j2", "config.yaml", "model_config.yaml"] {
        assert!(!found.iter().any(|(f, _)| f == clean), "{clean}: {found:?}");
    }
}
