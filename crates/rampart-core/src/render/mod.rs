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
