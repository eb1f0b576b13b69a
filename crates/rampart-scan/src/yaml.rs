//! Python tags in YAML documents (`!!python/object/apply:os.system`).
//!
//! PyYAML builds Python objects from tags in the `python/` namespace when a
//! document is read with an unsafe loader (`yaml.unsafe_load`,
//! `yaml.load(..., Loader=yaml.UnsafeLoader)`, and `FullLoader` before
//! PyYAML 5.4): `python/object/apply:M.f [args]` calls `M.f(*args)`,
//! `python/name:M.f` and `python/module:M` import. Training configs are read
//! with `yaml.load` often enough that a config file is a way in.
//!
//! Tags are read from the text, not by parsing YAML: a document that fails
//! to parse may still be read by a lenient loader. Each tag is expanded as
//! PyYAML expands it: `!!` and `!` handles and those that `%TAG`
//! directives declare, verbatim tags (`!<...>`), and `%XX` escapes
//! (`!!%70ython/...` is `!!python/...`). A tag in a comment or a quoted
//! string is reported all the same: telling those apart needs the whole
//! document's quoting and line breaks (a quoted string may span lines and
//! close after a `#`; CR, NEL and U+2028 end lines too), and a wrong guess
//! would hide a real tag.

use crate::pickle::globals::{Classifier, Verdict};
use crate::rules::YAML_PYTHON_TAG;
use rampart_core::{Finding, Location, Severity};
use std::collections::HashMap;

/// The namespace of PyYAML's Python tags.
const PYTHON: &str = "tag:yaml.org,2002:python/";

/// Tags that build plain values (tuple, bytes...): safe_load refuses them,
/// but they import nothing.
const VALUE_TAGS: &[&str] = &[
    "none", "bool", "str", "unicode", "bytes", "int", "long", "float", "complex", "list", "tuple",
    "dict",
];

/// Classes that configs written by `yaml.dump` hold and that do nothing
/// but hold values when PyYAML builds them (Lightning's hparams.yaml
/// stores paths and argparse namespaces): low, like an allowed name,
/// although pickles treat pathlib as a file gadget (methods reached by
/// later calls, which a YAML tag cannot make).
const YAML_VALUE_CLASSES: &[&str] = &[
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "argparse.Namespace",
];

/// At most this many tags are reported per document; past it, one more
/// finding says how many were left out.
const MAX_REPORTED: usize = 100;

/// Findings for every `python/` tag in `text` that imports or calls.
pub fn python_tags(text: &str, loc: &Location, classifier: &Classifier) -> Vec<Finding> {
    // Most documents have no tag at all.
    if !text.contains('!') {
        return Vec::new();
    }
    let (handles, overflow) = handles(text);
    let mut out = Vec::new();
    let mut left_out = 0usize;
    if overflow {
        out.push(Finding::new(
            YAML_PYTHON_TAG,
            Severity::High,
            loc.clone(),
            format!("more than {MAX_PREFIXES} %TAG prefixes for one handle; not all were followed"),
        ));
    }
    // A `!` inside the tag before it starts none: skipping those keeps the
    // scan linear ("(!x(!x(!x..." is one token).
    let mut inside_until = 0;
    for (at, _) in text.match_indices('!') {
        if at < inside_until {
            continue;
        }
        // The second `!` of `!!` or of a named handle (`!a_b!`), or a `!`
        // inside a word, starts no tag.
        let before = text.get(..at).and_then(|b| b.chars().next_back());
        if before.is_some_and(|c| c == '!' || c.is_alphanumeric() || c == '-' || c == '_') {
            continue;
        }
        let rest = text.get(at..).unwrap_or("");
        let token = rest.get(..token_len(rest)).unwrap_or(rest);
        inside_until = at + token.len();
        let tags = expand(token, &handles);
        let Some(rest) = tags.iter().find_map(|t| t.strip_prefix(PYTHON)) else {
            continue;
        };
        let Some(f) = tag_finding(rest, loc.at(at as u64), classifier) else {
            continue;
        };
        if out.len() < MAX_REPORTED {
            out.push(f);
        } else {
            left_out += 1;
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

/// The text a YAML loader reads from `bytes`: UTF-8 (a BOM allowed) or
/// UTF-16 with its BOM, the encodings PyYAML accepts; None otherwise.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units = rest
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok())
            .map(unit);
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => Some(utf16(rest, u16::from_le_bytes)),
        [0xFE, 0xFF, rest @ ..] => Some(utf16(rest, u16::from_be_bytes)),
        // A file read up to a size limit may end inside a character.
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Some(text.to_string()),
            Err(e) if e.error_len().is_none() => bytes
                .get(..e.valid_up_to())
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            Err(_) => None,
        },
    }
}

/// Whether the first bytes of a file look like text a YAML loader reads:
/// a UTF-16 BOM, or UTF-8 with no NUL (the last character may be cut).
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// The tag handles: `!` and `!!` with their default prefixes, and every
/// prefix a `%TAG` directive gives a handle (`%TAG !p!
/// tag:yaml.org,2002:python/`), decoded. A directive holds for one
/// document only, so a handle keeps every prefix it has anywhere, the
/// defaults included: a tag is looked at under each, and a wrong guess
/// only adds a tag to look at.
///
/// Only prefixes that can lead to the Python namespace are kept, at most
/// [`MAX_PREFIXES`] per handle; the flag says some were dropped.
fn handles(text: &str) -> (HashMap<String, Vec<String>>, bool) {
    let mut h = HashMap::from([
        ("!".to_string(), vec!["!".to_string()]),
        ("!!".to_string(), vec!["tag:yaml.org,2002:".to_string()]),
    ]);
    let mut overflow = false;
    // Every line break PyYAML knows.
    for line in text.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        let mut words = line.trim_start_matches('\u{feff}').split_whitespace();
        if words.next() != Some("%TAG") {
            continue;
        }
        let (Some(handle), Some(prefix)) = (words.next(), words.next()) else {
            continue;
        };
        if !(handle.starts_with('!') && handle.ends_with('!')) {
            continue;
        }
        let prefix = decode(prefix);
        if !(PYTHON.starts_with(&prefix) || prefix.starts_with(PYTHON)) {
            continue;
        }
        let list = h.entry(handle.to_string()).or_default();
        if list.contains(&prefix) {
            continue;
        }
        match list.len() < MAX_PREFIXES {
            true => list.push(prefix),
            false => overflow = true,
        }
    }
    (h, overflow)
}

/// Prefixes kept per tag handle.
const MAX_PREFIXES: usize = 32;

/// The length of the tag token that starts `s`: to the `>` of a verbatim
/// tag (which holds no white space: an unclosed one ends at the first,
/// so that the tags after it are still read), else to the first space or
/// flow indicator.
fn token_len(s: &str) -> usize {
    if s.starts_with("!<") {
        return match s.find(|c: char| c == '>' || c.is_whitespace()) {
            Some(i) if s.get(i..).is_some_and(|r| r.starts_with('>')) => i + 1,
            Some(i) => i,
            None => s.len(),
        };
    }
    s.find(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '{' | '}' | ',' | '"'))
        .unwrap_or(s.len())
}

/// The full tags that a tag token (`!!python/...`, as [`token_len`] cuts
/// it) may stand for, as PyYAML resolves it under each prefix of its
/// handle; none when it names an undeclared handle.
fn expand(token: &str, handles: &HashMap<String, Vec<String>>) -> Vec<String> {
    expand_one(token, handles).unwrap_or_default()
}

fn expand_one(token: &str, handles: &HashMap<String, Vec<String>>) -> Option<Vec<String>> {
    if let Some(verbatim) = token.strip_prefix("!<") {
        return Some(vec![decode(verbatim.strip_suffix('>')?)]);
    }
    // The handle: `!!`, `!name!` or `!`.
    let handle_end = token
        .get(1..)
        .and_then(|t| t.find('!'))
        .filter(|&i| {
            token.get(1..=i).is_some_and(|n| {
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '!'))
            })
        })
        .map_or(1, |i| i + 2);
    let (handle, suffix) = token.split_at(handle_end.min(token.len()));
    let suffix = decode(suffix);
    Some(
        handles
            .get(handle)?
            .iter()
            .map(|p| format!("{p}{suffix}"))
            .collect(),
    )
}

/// `%XX` escapes decoded, as PyYAML decodes a tag's URI.
fn decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    // A value tag, or the namespace alone (a `%TAG` directive's prefix).
    if (VALUE_TAGS.contains(&kind) || kind.is_empty()) && target.is_empty() {
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
    let verdict = match YAML_VALUE_CLASSES.contains(&target) {
        true => Verdict::Safe,
        false => verdict,
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
        // What yaml.dump writes for a path or an argparse namespace.
        let f = found("data_dir: !!python/object/apply:pathlib.PosixPath\n- /data\nargs: !!python/object:argparse.Namespace {a: 1}\n");
        assert!(f.iter().all(|(s, _)| *s == Severity::Low), "{f:?}");
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
    fn an_unclosed_verbatim_tag_hides_nothing_after_it() {
        let f = found("!<\na: !!python/object/apply:os.system [ls]\n");
        assert!(
            f.iter()
                .any(|(s, t)| *s == Severity::Critical && t.ends_with("os.system")),
            "{f:?}"
        );
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
    fn escapes_are_decoded_as_pyyaml_decodes_them() {
        for text in [
            "x: !<tag:yaml.org,2002:%70ython/object/apply:os.system> [ls]\n",
            "x: !!%70ython/object/apply:os.system [ls]\n",
            "%TAG !p! tag:yaml.org,2002:%70ython/\n---\nx: !p!object/apply:os.system [ls]\n",
            "x: !!python/object/apply:os%2Esystem [ls]\n",
            "%TAG ! tag:yaml.org,2002:python/\n---\nx: !object/apply:os.system [ls]\n",
        ] {
            let f = found(text);
            assert!(
                f.iter()
                    .any(|(s, t)| *s == Severity::Critical && t.ends_with("os.system")),
                "{text:?}: {f:?}"
            );
        }
    }

    #[test]
    fn a_handle_redefined_in_one_document_keeps_its_default_in_the_next() {
        let text =
            "%TAG !! tag:example.com,2000:\n--- !!x 1\n...\n---\na: !!python/name:os.system\n";
        let f = found(text);
        assert!(f.iter().any(|(s, _)| *s == Severity::Critical), "{f:?}");
    }

    #[test]
    fn tags_after_any_line_break_or_in_a_string_are_reported() {
        for text in [
            // A quoted string that spans lines and closes after a `#`.
            "a: [\"x\n#\", !!python/object/apply:os.system [ls]]\n",
            // CR, NEL and U+2028 end lines for PyYAML.
            "# c\r!!python/object/apply:os.system [ls]\n",
            "# c\u{85}a: !!python/object/apply:os.system [ls]\n",
            "# c\u{2028}a: !!python/object/apply:os.system [ls]\n",
            // A byte-order mark just before the tag; a handle with `_`.
            "\u{feff}!!python/object/apply:os.system [ls]\n",
            "%TAG !a_b! tag:yaml.org,2002:python/\n---\na: !a_b!object/apply:os.system [ls]\n",
        ] {
            let f = found(text);
            assert!(
                f.iter().any(|(s, _)| *s == Severity::Critical),
                "{text:?}: {f:?}"
            );
        }
        // The directive alone names nothing.
        assert_eq!(found("%TAG !p! tag:yaml.org,2002:python/\n---\na: 1\n"), []);
    }

    #[test]
    fn hostile_shapes_stay_linear_and_bounded() {
        // One long token of `!`s after brackets: read once, not once per `!`.
        let text = "(!x".repeat(200_000);
        assert_eq!(found(&text), []);
        // Many %TAG prefixes for one handle: kept up to a cap, said so.
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!(
                "%TAG !p! tag:yaml.org,2002:python/object/apply:m{i}.\n"
            ));
        }
        text.push_str("---\na: !p!system [ls]\n");
        let f = found(&text);
        assert!(
            f.iter().any(|(s, t)| *s == Severity::High && t.is_empty()),
            "{f:?}"
        );
        // A %TAG after a CR-only line break is still a directive.
        let f = found("x: 1\r%TAG !p! tag:yaml.org,2002:python/\r---\ra: !p!name:os.system\r");
        assert!(f.iter().any(|(s, _)| *s == Severity::Critical), "{f:?}");
    }

    #[test]
    fn many_tags_are_capped_and_counted() {
        let text = "- !!python/name:os.system\n".repeat(MAX_REPORTED + 5);
        let f = found(&text);
        assert_eq!(f.len(), MAX_REPORTED + 1);
    }
}
