//! Model-repository checks on files in a scanned folder: code that a
//! loader may run (`trust_remote_code`, shared libraries, scripts), and
//! formats that are recognised but not analysed yet.

use rampart_core::{Finding, Location, Severity};
use std::path::Path;

use crate::rules::{REPO_CODE_FILE, REPO_INVALID_JSON, REPO_REMOTE_CODE, SCAN_UNSUPPORTED};

/// Largest JSON file parsed for `auto_map` (configs are small).
const MAX_JSON: u64 = 16 << 20;

/// Extensions of files that run as code when a repository is used.
const CODE_EXTENSIONS: &[(&str, &str)] = &[
    ("py", "Python source"),
    ("pyc", "compiled Python"),
    ("pyo", "compiled Python"),
    ("sh", "shell script"),
    ("bash", "shell script"),
    ("bat", "Windows batch script"),
    ("cmd", "Windows batch script"),
    ("ps1", "PowerShell script"),
    ("so", "shared library"),
    ("dll", "Windows library"),
    ("dylib", "macOS library"),
    ("exe", "Windows executable"),
];

/// A format recognised by its first bytes that this scanner cannot
/// analyse yet, or native code.
pub fn sniff_other(head: &[u8]) -> Option<(&'static str, bool)> {
    let native = |n| Some((n, true));
    let unsupported = |n| Some((n, false));
    if head.starts_with(b"\x7fELF") {
        native("ELF executable or shared library")
    } else if head.starts_with(b"MZ") && head.len() >= 64 {
        native("Windows PE executable or DLL")
    } else if matches!(
        head.get(..4),
        Some([0xcf | 0xce, 0xfa, 0xed, 0xfe] | [0xfe, 0xed, 0xfa, 0xce | 0xcf])
    ) {
        native("Mach-O executable or library")
    } else if head.starts_with(b"#!") {
        native("script with an interpreter line (#!)")
    } else if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        unsupported("HDF5 file (legacy Keras .h5)")
    } else if head.get(4..8) == Some(b"TFL3") {
        unsupported("TensorFlow Lite model")
    } else {
        None
    }
}

/// The finding for a sniffed format.
pub fn sniffed_finding(name: &'static str, native: bool, loc: &Location) -> Finding {
    if native {
        Finding::new(
            REPO_CODE_FILE,
            Severity::High,
            loc.clone(),
            format!("{name}: native code that runs when loaded or executed"),
        )
        .with("kind", name)
    } else {
        Finding::new(
            SCAN_UNSUPPORTED,
            Severity::Low,
            loc.clone(),
            format!("{name}: recognised, but not analysed by this version"),
        )
        .with("format", name)
    }
}

/// Checks that depend on a file's place in a repository: code files by
/// name, and `config.json` files that need `trust_remote_code`.
pub fn check_file(path: &Path, findings: &mut Vec<Finding>) {
    let loc = Location::file(path.display().to_string());
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let already_code = findings
        .iter()
        .any(|f| f.rule == REPO_CODE_FILE && f.location.members.is_empty());
    if let Some((_, what)) = CODE_EXTENSIONS.iter().find(|(e, _)| *e == ext) {
        if !already_code {
            findings.push(
                Finding::new(
                    REPO_CODE_FILE,
                    Severity::High,
                    loc.clone(),
                    format!("{what} inside the model folder: code that loaders or users may run"),
                )
                .with("kind", *what),
            );
        }
        // The content was not a model format; a code file says enough.
        findings.retain(|f| !(f.rule == crate::rules::SCAN_UNKNOWN_FORMAT && f.location == loc));
    }
    if ext == "json" {
        check_json(path, &loc, findings);
    }
}

fn check_json(path: &Path, loc: &Location, findings: &mut Vec<Finding>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.len() > MAX_JSON {
        return;
    }
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    let value: serde_json::Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            findings.push(Finding::new(
                REPO_INVALID_JSON,
                Severity::Low,
                loc.clone(),
                format!("not valid JSON: {e}"),
            ));
            return;
        }
    };
    // Valid JSON is a known format: no need to list it as unknown.
    findings.retain(|f| !(f.rule == crate::rules::SCAN_UNKNOWN_FORMAT && &f.location == loc));
    chat_templates(&value, loc, findings);
    let Some(map) = value.get("auto_map").and_then(|m| m.as_object()) else {
        return;
    };
    let mut targets: Vec<String> = map
        .iter()
        .flat_map(|(k, v)| match v {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .map(|s| format!("{k} -> {s}"))
                .collect(),
            serde_json::Value::String(s) => vec![format!("{k} -> {s}")],
            _ => Vec::new(),
        })
        .collect();
    targets.truncate(20);
    findings.push(
        Finding::new(
            REPO_REMOTE_CODE,
            Severity::High,
            loc.clone(),
            "auto_map: loading this model needs trust_remote_code=True, which runs the repository's Python code",
        )
        .with("auto_map", targets.join("; ")),
    );
}

/// `chat_template` in `tokenizer_config.json`: one template, or a list of
/// `{"name", "template"}` pairs; each is checked for template injection.
fn chat_templates(value: &serde_json::Value, loc: &Location, findings: &mut Vec<Finding>) {
    match value.get("chat_template") {
        Some(serde_json::Value::String(t)) => {
            findings.extend(crate::template::findings(t, "chat_template", loc));
        }
        Some(serde_json::Value::Array(list)) => {
            for item in list.iter().take(64) {
                if let Some(t) = item.get("template").and_then(|t| t.as_str()) {
                    let name = item.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    let key = format!("chat_template[{name}]");
                    findings.extend(crate::template::findings(t, &key, loc));
                }
            }
        }
        _ => {}
    }
}
