use crate::{Report, Severity};
use std::fmt::Write;

fn paint(sev: Severity, color: bool) -> String {
    let label = format!("{:<8}", sev.as_str().to_ascii_uppercase());
    if !color {
        return label;
    }
    let code = match sev {
        Severity::Critical => "1;97;41",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{label}\x1b[0m")
}

/// Human-readable report: one block per finding, most severe first, then a
/// summary line and the verdict against `fail_on`.
pub fn table(report: &Report, fail_on: Severity, color: bool) -> String {
    let mut out = String::new();
    if !report.inventory.is_empty() {
        let _ = writeln!(
            out,
            "{:<22} {:>14} {:>8}  LOCATION",
            "FORMAT", "BYTES", "TENSORS"
        );
        for a in &report.inventory {
            let opt = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
            let _ = writeln!(
                out,
                "{:<22} {:>14} {:>8}  {}",
                a.format,
                opt(a.size),
                opt(a.tensors),
                a.location
            );
        }
        out.push('\n');
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{} {:<26} {}",
            paint(f.severity, color),
            f.rule,
            f.location
        );
        let _ = writeln!(out, "         {}", f.message);
        // Evidence the message already states is not repeated.
        for (k, v) in f
            .evidence
            .iter()
            .filter(|(_, v)| !f.message.contains(v.as_str()))
        {
            let _ = writeln!(out, "           {k}: {v}");
        }
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    let c = report.counts();
    let metrics: Vec<String> = report
        .metrics
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(
        out,
        "{} findings: {} critical, {} high, {} medium, {} low, {} info{}",
        report.findings.len(),
        c.critical,
        c.high,
        c.medium,
        c.low,
        c.info,
        if metrics.is_empty() {
            String::new()
        } else {
            format!(" ({})", metrics.join(", "))
        }
    );
    let suppressed: usize = report.suppressed.values().sum();
    if suppressed > 0 {
        let _ = writeln!(out, "{suppressed} findings suppressed by policy");
    }
    for e in &report.errors {
        let _ = writeln!(out, "ERROR: {e}");
    }
    let verdict = if !report.errors.is_empty() {
        format!(
            "INCOMPLETE: {} inputs could not be read",
            report.errors.len()
        )
    } else if report.fails(fail_on) {
        format!("FAIL: findings at or above {fail_on}")
    } else {
        format!("PASS: nothing at or above {fail_on}")
    };
    let _ = writeln!(out, "{verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Finding, Location};

    #[test]
    fn shows_findings_and_verdict() {
        let mut r = Report::new("scan");
        r.findings.push(
            Finding::new(
                "PICKLE-EXEC",
                Severity::Critical,
                Location::file("a.pkl"),
                "calls os.system",
            )
            .with("global", "os.system")
            .with("args", "(\"id\")"),
        );
        let t = table(&r, Severity::Medium, false);
        assert!(t.contains("CRITICAL PICKLE-EXEC"), "{t}");
        assert!(t.contains("args: (\"id\")"), "{t}");
        assert!(
            !t.contains("global: os.system"),
            "evidence repeated from the message: {t}"
        );
        assert!(t.contains("FAIL"));
        assert!(!t.contains('\x1b'));
        assert!(table(&r, Severity::Medium, true).contains('\x1b'));
        assert!(table(&Report::new("scan"), Severity::Medium, false).contains("PASS"));
    }
}
