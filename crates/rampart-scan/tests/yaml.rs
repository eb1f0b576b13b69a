//! A YAML config beside a model is read for Python tags: what an unsafe
//! PyYAML loader would import or call.

#![cfg(test)]

use rampart_core::Severity;
use rampart_scan::Scanner;

#[test]
fn a_yaml_config_that_calls_os_system_fails_the_scan() {
    let text =
        b"model:\n  name: resnet\n  loader: !!python/object/apply:os.system [\"echo pwned\"]\n";
    for name in ["config.yaml", "train.YML", "hparams.yml"] {
        let found = Scanner::default().scan_bytes(name, text);
        assert!(
            found
                .iter()
                .any(|f| f.rule == "YAML-PYTHON-TAG" && f.severity == Severity::Critical),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn plain_yaml_configs_pass() {
    let text = b"model:\n  name: resnet\n  layers: [64, 128]\n  size: !!python/tuple [224, 224]\n";
    let found = Scanner::default().scan_bytes("config.yaml", text);
    assert!(
        found.iter().all(|f| f.severity < Severity::Medium),
        "{found:?}"
    );
}

#[test]
fn a_config_of_any_name_or_encoding_is_read_for_tags() {
    let text = "lr: 0.1\nloader: !!python/object/apply:os.system [\"id\"]\n";
    let critical = |found: &[rampart_core::Finding]| {
        found
            .iter()
            .any(|f| f.rule == "YAML-PYTHON-TAG" && f.severity == Severity::Critical)
    };
    // By content: no YAML name.
    for name in ["config", "hparams.cfg", "settings.txt"] {
        let found = Scanner::default().scan_bytes(name, text.as_bytes());
        assert!(critical(&found), "{name}: {found:?}");
    }
    // Text whose first bytes look like another format ("model: {" puts a
    // safetensors header's brace at byte 8), and flow-style YAML, which
    // sniffs as JSON.
    for (name, text) in [
        (
            "config.yaml.j2",
            "model: {{ model }}
x: !!python/object/apply:os.system [id]
",
        ),
        (
            "cfg.json",
            "{a: !!python/object/apply:os.system [id]}
",
        ),
        (
            "config",
            "[!!python/object/apply:os.system [id]]
",
        ),
    ] {
        let found = Scanner::default().scan_bytes(name, text.as_bytes());
        assert!(critical(&found), "{name}: {found:?}");
    }
    // UTF-16 with a byte-order mark, as PyYAML reads it.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let found = Scanner::default().scan_bytes("config.yaml", &utf16);
    assert!(critical(&found), "{found:?}");
    // Text is still read as a pickle too: protocol 0 is text.
    let found = Scanner::default().scan_bytes("notes", b"cos\nsystem\n(S'id'\ntR.");
    assert!(found.iter().any(|f| f.rule == "PICKLE-EXEC"), "{found:?}");
}
