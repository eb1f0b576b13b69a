//! SARIF 2.1.0 (OASIS), the format code-scanning services ingest.

use crate::{Catalog, Report, Severity};
use serde_json::{json, Map, Value};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0.0-10.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Paths in SARIF are URI references: forward slashes, percent-encoding of
/// the few characters that would change the meaning.
fn uri(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for ch in path.chars() {
        match ch {
            '\\' => s.push('/'),
            '%' => s.push_str("%25"),
            ' ' => s.push_str("%20"),
            '#' => s.push_str("%23"),
            '?' => s.push_str("%3F"),
            c => s.push(c),
        }
    }
    s
}

/// Renders `report` as a SARIF 2.1.0 log with one run. Every rule the
/// results use is described in `tool.driver.rules` from `catalog`.
pub fn sarif(report: &Report, catalog: &Catalog) -> String {
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match catalog.get(id) {
            Some(r) => json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.description},
                "help": {"text": format!("{}\n\nFix: {}", r.description, r.fix)},
                "defaultConfiguration": {"level": level(r.default_severity)},
                "properties": {
                    "tags": ["security"],
                    "security-severity": security_severity(r.default_severity),
                    "references": r.references,
                },
            }),
            None => json!({"id": id}),
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut physical = Map::new();
            physical.insert(
                "artifactLocation".into(),
                json!({"uri": uri(&f.location.path)}),
            );
            if let (Some(off), true) = (f.location.offset, f.location.members.is_empty()) {
                physical.insert("region".into(), json!({"byteOffset": off}));
            }
            let mut loc = Map::new();
            loc.insert("physicalLocation".into(), Value::Object(physical));
            if !f.location.members.is_empty() {
                loc.insert(
                    "logicalLocations".into(),
                    json!([{
                        "name": f.location.members.last(),
                        "fullyQualifiedName": f.location.display_name(),
                        "kind": "member",
                    }]),
                );
            }
            let mut props = Map::new();
            props.insert("severity".into(), json!(f.severity));
            props.insert(
                "security-severity".into(),
                json!(security_severity(f.severity)),
            );
            if let Some(off) = f.location.offset {
                props.insert("byteOffset".into(), json!(off));
            }
            if !f.evidence.is_empty() {
                props.insert("evidence".into(), json!(f.evidence));
            }
            let index = rule_ids.binary_search(&f.rule.as_str()).unwrap_or(0);
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [Value::Object(loc)],
                "properties": Value::Object(props),
            })
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rampart",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": report.errors.iter().map(|e| json!({
                    "level": "error",
                    "message": {"text": e},
                })).collect::<Vec<_>>(),
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes() {
        assert_eq!(uri("a b\\c#d%"), "a%20b/c%23d%25");
    }
}
