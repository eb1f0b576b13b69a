//! A YAML config beside a model is read for Python tags: what an unsafe
//! PyYAML loader would import or call.

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
