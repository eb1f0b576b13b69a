//! Python tags in YAML documents (`!!python/object/apply:os.system`).
//!
//! PyYAML builds Python objects from tags in the `python/` namespace when a
//! document is read with an unsafe loader (`yaml.unsafe_load`,
//! `yaml.load(..., Loader=yaml.UnsafeLoader)`, and `FullLoader` before
//! PyYAML 5.4): `python/object/apply:M.f [args]` calls `M.f(*args)`,
//! `python/name:M.f` and `python/module:M` import. Training configs are read
//! with `yaml.load` often enough that a config file is a way in.
//!
//! The tags are found in the text, not by parsing YAML: a document that
//! fails to parse may still be read by a lenient loader, and a byte scan
//! cannot be confused by YAML syntax. A tag shorthand declared with `%TAG`
//! (`%TAG !p! tag:yaml.org,2002:python/`) is followed.

use crate::pickle::globals::{Classifier, Verdict};
use crate::rules::YAML_PYTHON_TAG;
use rampart_core::{Finding, Location, Severity};

/// The tag prefixes that mean the `python/` namespace.
const PREFIXES: &[&str] = &["!!python/", "tag:yaml.org,2002:python/"];

/// Tags that build plain values (tuple, bytes...): safe_load refuses them,
/// but they import nothing.
const VALUE_TAGS: &[&str] = &[
    "none", "bool", "str", "unicode", "bytes", "int", "long", "float", "complex", "list", "tuple",
    "dict",
];

/// At most this many tags are reported per document; past it, one more
/// finding says how many were left out.
const MAX_REPORTED: usize = 100;

/// Findings for every `python/` tag in `text` that imports or calls.
pub fn python_tags(text: &str, loc: &Location, classifier: &Classifier) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut left_out = 0usize;
    let mut prefixes: Vec<String> = PREFIXES.iter().map(|p| (*p).to_string()).collect();
    prefixes.extend(declared_handles(text));
    let mut seen = std::collections::BTreeSet::new();
    for prefix in &prefixes {
        for (at, _) in text.match_indices(prefix.as_str()) {
            if !seen.insert(at) {
                continue;
            }
            let rest = text.get(at + prefix.len()..).unwrap_or("");
            let Some(f) = tag_finding(rest, loc.at(at as u64), classifier) else {
                continue;
            };
            if out.len() < MAX_REPORTED {
                out.push(f);
            } else {
                left_out += 1;
            }
        }
    }
    if left_out > 0 {
        out.push(Finding::new(
            YAML_PYTHON_TAG,
            Severity::High,
            loc.clone(),
            format!("{left_out} more Python tags not listed"),
        ));
    }
    out
}

/// Handles that `%TAG` directives bind to the `python/` namespace
/// (`%TAG !p! tag:yaml.org,2002:python/` makes `!p!` one), each as the
/// text that starts a tag (`!p!`).
fn declared_handles(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("%TAG")?.split_whitespace();
            let handle = words.next()?;
            let prefix = words.next()?;
            let python = PREFIXES.iter().any(|p| {
                prefix
                    .trim_end_matches('/')
                    .ends_with(p.trim_end_matches('/'))
            }) || prefix.ends_with("tag:yaml.org,2002:") && handle != "!!";
            (python && handle.starts_with('!') && handle.ends_with('!')).then(|| {
                // A handle for the whole yaml.org namespace needs "python/"
                // after it.
                if prefix.ends_with("python/") {
                    handle.to_string()
                } else {
                    format!("{handle}python/")
                }
            })
        })
        .collect()
}

/// The finding for the tag whose text after `python/` is `rest`, or None
/// for a tag that builds a plain value.
fn tag_finding(rest: &str, loc: Location, classifier: &Classifier) -> Option<Finding> {
    let end = rest
        .find(|c: char| {
            c.is_whitespace() || matches!(c, '[' | ']' | '{' | '}' | ',' | '"' | '\'' | '>')
        })
        .unwrap_or(rest.len());
    let tag = rest.get(..end).unwrap_or(rest);
    let (kind, target) = tag.split_once(':').unwrap_or((tag, ""));
    if VALUE_TAGS.contains(&kind) && target.is_empty() {
        return None;
    }
    let does = match kind {
        "object/apply" => "calls",
        "object/new" => "instantiates",
        "object" => "instantiates and sets the state of",
        "name" => "imports",
        "module" => "imports the module",
        _ => "uses an unknown Python tag with",
    };
    let (module, name) = target.rsplit_once('.').unwrap_or((target, ""));
    let verdict = match (kind, name.is_empty()) {
        // A whole module: as dangerous as its name is.
        ("module", _) | (_, true) => classifier.classify(target, "*"),
        _ => classifier.classify(module, name),
    };
    let (severity, why) = match verdict {
        Verdict::Dangerous(d) => (Severity::Critical, d.what()),
        Verdict::Unknown => (Severity::High, "not on the allowlist"),
        Verdict::Safe => (Severity::Low, "on the allowlist"),
    };
    let shown: String = tag.chars().take(200).collect();
    Some(
        Finding::new(
            YAML_PYTHON_TAG,
            severity,
            loc,
            format!(
                "YAML tag !!python/{shown} {does} {} ({why}) when read with an unsafe loader",
                if target.is_empty() {
                    "nothing named"
                } else {
                    target
                }
            ),
        )
        .with("tag", format!("python/{shown}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Severity, String)> {
        python_tags(text, &Location::file("config.yaml"), &Classifier::default())
            .into_iter()
            .map(|f| {
                (
                    f.severity,
                    f.evidence.get("tag").cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn calls_and_imports_are_reported_by_what_they_reach() {
        let f = found("loader: !!python/object/apply:os.system [\"echo hi\"]\n");
        assert_eq!(
            f,
            [(Severity::Critical, "python/object/apply:os.system".into())]
        );
        let f = found("a: !!python/name:subprocess.Popen\nb: !!python/module:os\n");
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|(s, _)| *s == Severity::Critical), "{f:?}");
        // Something not on the allowlist: high.
        let f = found("x: !!python/object:mylib.Config {a: 1}\n");
        assert_eq!(f, [(Severity::High, "python/object:mylib.Config".into())]);
        // An allowed class still needs an unsafe loader: low.
        let f = found("x: !!python/object/apply:collections.OrderedDict [[]]\n");
        assert_eq!(
            f,
            [(
                Severity::Low,
                "python/object/apply:collections.OrderedDict".into()
            )]
        );
    }

    #[test]
    fn value_tags_and_plain_yaml_are_not_reported() {
        assert_eq!(found("size: !!python/tuple [1, 2]\nname: !!str x\n"), []);
        assert_eq!(found("model: resnet\nlr: 0.1\n"), []);
    }

    #[test]
    fn verbatim_tags_and_declared_handles_are_followed() {
        let f = found("a: !<tag:yaml.org,2002:python/object/apply:os.system> [ls]\n");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, Severity::Critical);
        let f =
            found("%TAG !p! tag:yaml.org,2002:python/\n---\na: !p!object/apply:os.system [ls]\n");
        assert!(
            f.iter()
                .any(|(s, t)| *s == Severity::Critical && t.ends_with("os.system")),
            "{f:?}"
        );
        let f = found("%TAG !y! tag:yaml.org,2002:\n---\na: !y!python/name:os.system\n");
        assert!(f.iter().any(|(s, _)| *s == Severity::Critical), "{f:?}");
    }

    #[test]
    fn many_tags_are_capped_and_counted() {
        let text = "- !!python/name:os.system\n".repeat(MAX_REPORTED + 5);
        let f = found(&text);
        assert_eq!(f.len(), MAX_REPORTED + 1);
    }
}
