//! Model-repository checks on files in a scanned folder: code that a
//! loader may run (`trust_remote_code`, shared libraries, scripts), and
//! formats that are recognised but not analysed yet.

use rampart_core::{Finding, Location, Severity};
use std::path::Path;

use crate::rules::{REPO_CODE_FILE, REPO_REMOTE_CODE};

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

/// Native code or a script, recognised by its first bytes.
pub fn sniff_code(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x7fELF") {
        Some("ELF executable or shared library")
    } else if head.starts_with(b"MZ") && head.len() >= 64 {
        Some("Windows PE executable or DLL")
    } else if matches!(
        head.get(..4),
        Some([0xcf | 0xce, 0xfa, 0xed, 0xfe] | [0xfe, 0xed, 0xfa, 0xce | 0xcf])
    ) {
        Some("Mach-O executable or library")
    } else if head.starts_with(b"#!") {
        Some("script with an interpreter line (#!)")
    } else {
        None
    }
}

/// The finding for code recognised by content.
pub fn code_finding(name: &'static str, loc: &Location) -> Finding {
    Finding::new(
        REPO_CODE_FILE,
        Severity::High,
        loc.clone(),
        format!("{name}: native code that runs when loaded or executed"),
    )
    .with("kind", name)
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
}

/// Checks on a JSON document (a file or an archive member): chat
/// templates, `auto_map` (with the Python files it names, when `dir` is the
/// folder the document is in), and Keras model configs.
pub fn json_findings(
    value: &serde_json::Value,
    loc: &Location,
    dir: Option<&Path>,
    classifier: &crate::pickle::globals::Classifier,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    chat_templates(value, loc, &mut findings);
    if crate::keras::looks_like_keras(value) {
        findings.extend(crate::keras::findings(value, loc, classifier));
    }
    if let Some(map) = value.get("auto_map").and_then(|m| m.as_object()) {
        auto_map(map, loc, dir, &mut findings);
    }
    findings
}

/// `auto_map` values are `module.Class` (a file of this repository) or
/// `owner/repo--module.Class` (code fetched from another repository).
fn auto_map(
    map: &serde_json::Map<String, serde_json::Value>,
    loc: &Location,
    dir: Option<&Path>,
    findings: &mut Vec<Finding>,
) {
    let targets: Vec<(&str, &str)> = map
        .iter()
        .flat_map(|(k, v)| match v {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .map(|s| (k.as_str(), s))
                .collect(),
            serde_json::Value::String(s) => vec![(k.as_str(), s.as_str())],
            _ => Vec::new(),
        })
        .take(50)
        .collect();
    let listed: Vec<String> = targets.iter().map(|(k, s)| format!("{k} -> {s}")).collect();
    findings.push(
        Finding::new(
            REPO_REMOTE_CODE,
            Severity::High,
            loc.clone(),
            "auto_map: loading this model needs trust_remote_code=True, which runs the repository's Python code",
        )
        .with("auto_map", listed.join("; ")),
    );
    let mut modules: Vec<String> = Vec::new();
    for (_, target) in &targets {
        let (repo, path) = match target.split_once("--") {
            Some((repo, rest)) => (Some(repo), rest),
            None => (None, *target),
        };
        let Some((module, _class)) = path.rsplit_once('.') else {
            continue;
        };
        let file = format!("{}.py", module.replace('.', "/"));
        if let Some(repo) = repo {
            findings.push(
                Finding::new(
                    REPO_REMOTE_CODE,
                    Severity::High,
                    loc.clone(),
                    format!("auto_map loads {file} from another repository, {repo}: code that is not in this folder and was not scanned"),
                )
                .with("repository", repo),
            );
        } else if !modules.contains(&file) {
            modules.push(file);
        }
    }
    let Some(dir) = dir else {
        return;
    };
    for file in modules {
        let path = dir.join(&file);
        // Only plain relative names: never follow `..` out of the folder.
        let inside = Path::new(&file)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if inside && path.is_file() {
            findings.push(Finding::new(
                REPO_REMOTE_CODE,
                Severity::High,
                Location::file(path.display().to_string()),
                format!("Python module named by auto_map in {}: it runs when the model is loaded with trust_remote_code=True", loc.path),
            ));
        }
    }
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
