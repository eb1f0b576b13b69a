//! Report renderers. Each returns a `String`; the caller decides where it
//! goes (stdout, or a file written atomically).

mod sarif;
mod table;

pub use sarif::sarif;
pub use table::table;

use crate::Report;

/// The report as pretty JSON, with a summary of counts and the verdict.
pub fn json(report: &Report, fail_on: crate::Severity) -> String {
    let mut value = serde_json::json!({
        "check": report.check,
        "tool_version": report.tool_version,
        "inputs": report.inputs,
        "fail_on": fail_on,
        "passed": !report.fails(fail_on) && report.errors.is_empty(),
        "counts": report.counts(),
        "metrics": report.metrics,
        "suppressed": report.suppressed,
        "findings": report.findings,
        "errors": report.errors,
    });
    if let (false, Some(map)) = (report.inventory.is_empty(), value.as_object_mut()) {
        map.insert("inventory".into(), serde_json::json!(report.inventory));
    }
    // Serializing a `Value` built from plain data cannot fail.
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// One line per rule: id, default severity, summary.
pub fn rules_short(rules: &[&crate::Rule]) -> String {
    let mut s = String::new();
    for r in rules {
        s.push_str(&format!(
            "{:<24} {:<9} {}\n",
            r.id,
            r.default_severity.as_str(),
            r.summary
        ));
    }
    s.push_str("\n`rampart rules ID` explains one rule; `rampart rules` explains all.\n");
    s
}

/// Every rule explained: summary, description, fix, references.
pub fn rules_long(rules: &[&crate::Rule]) -> String {
    let mut s = String::new();
    for (i, r) in rules.iter().enumerate() {
        if i > 0 {
            s.push_str("\n────────\n\n");
        }
        s.push_str(&format!(
            "{} ({}): {}\n\n{}\n\n{}\n\nFix: {}\n",
            r.id, r.name, r.default_severity, r.summary, r.description, r.fix
        ));
        if !r.references.is_empty() {
            s.push_str("\nReferences:\n");
            for refr in r.references {
                s.push_str(&format!("  - {refr}\n"));
            }
        }
    }
    s
}
