//! A pipeline's results as a table, JSON, JUnit XML for CI test views,
//! one self-contained HTML page, or SARIF 2.1.0.

use crate::pipeline::StageResult;

/// JSON: the stages with their gates.
pub fn json(results: &[StageResult]) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(results)? + "\n")
}

/// SARIF 2.1.0 of every gate's findings; a gate that failed without
/// findings is a GATE-FAILED result, one that could not run a GATE-ERROR
/// result and an unsuccessful invocation, so that no failure reads as
/// an empty report.
pub fn sarif(results: &[StageResult]) -> String {
    let mut report = rampart_core::Report::new("run");
    for g in results.iter().flat_map(|s| &s.gates) {
        report.inputs.extend(g.inputs.iter().cloned());
        report.findings.extend(g.findings.iter().cloned());
        if !g.passed && g.findings.is_empty() {
            let rule = if g.error { "GATE-ERROR" } else { "GATE-FAILED" };
            let at = g.inputs.first().cloned().unwrap_or_default();
            report.findings.push(rampart_core::Finding::new(
                rule,
                rampart_core::Severity::High,
                rampart_core::Location::file(at),
                format!("{} gate: {}", g.gate, g.summary),
            ));
        }
        if g.error {
            report
                .errors
                .push(format!("{} gate: {}", g.gate, g.summary));
        }
    }
    rampart_core::render::sarif(&report, &crate::catalog())
}

/// A table for people: a line per stage, a line per gate.
pub fn table(results: &[StageResult]) -> String {
    let mut s = String::new();
    for st in results {
        s.push_str(&format!(
            "stage {}: {}\n",
            st.name,
            if st.passed { "passed" } else { "FAILED" }
        ));
        for g in &st.gates {
            let idx = g
                .ledger_index
                .map(|i| format!(" [ledger {i}]"))
                .unwrap_or_default();
            s.push_str(&format!(
                "  {:<6} {:<6} {}: {}{idx}\n",
                if g.passed { "ok" } else { "FAIL" },
                g.gate,
                g.inputs.join(" "),
                g.summary
            ));
        }
    }
    s
}

pub(crate) fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: a test suite per stage, a test case per gate.
pub fn junit(results: &[StageResult]) -> String {
    let mut s =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart\">\n");
    for st in results {
        let failures = st.gates.iter().filter(|g| !g.passed).count();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
            xml(&st.name),
            st.gates.len()
        ));
        for g in &st.gates {
            s.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{} {}\"",
                xml(&st.name),
                xml(&g.gate),
                xml(&g.inputs.join(" "))
            ));
            if g.passed {
                s.push_str("/>\n");
            } else {
                let detail: Vec<String> = g
                    .findings
                    .iter()
                    .take(50)
                    .map(|f| format!("{} {} {}: {}", f.severity, f.rule, f.location, f.message))
                    .collect();
                s.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml(&g.summary),
                    xml(&detail.join("\n"))
                ));
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The page's head: styles inline, no external assets.
const STYLE: &str = "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h2{margin-top:1.5em}.ok{color:#176f2c}.fail{color:#b00020;font-weight:bold}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:12px}</style>";

/// A whole page around `body` (an evaluation's section, say).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n{STYLE}</head><body>\n<h1>{}</h1>\n{body}</body></html>\n",
        xml(title),
        xml(title)
    )
}

/// One HTML page, styles inline, no external assets.
pub fn html(results: &[StageResult]) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rampart pipeline report</title>\n{STYLE}</head><body>\n<h1>Rampart pipeline report</h1>\n"
    );
    for st in results {
        let (class, word) = if st.passed {
            ("ok", "passed")
        } else {
            ("fail", "FAILED")
        };
        s.push_str(&format!(
            "<h2>Stage {} <span class=\"{class}\">{word}</span></h2>\n",
            xml(&st.name)
        ));
        for g in &st.gates {
            let (class, word) = if g.passed {
                ("ok", "passed")
            } else {
                ("fail", "FAILED")
            };
            let idx = g
                .ledger_index
                .map(|i| format!(" &middot; ledger entry {i}"))
                .unwrap_or_default();
            s.push_str(&format!(
                "<h3>{} <code>{}</code> <span class=\"{class}\">{word}</span></h3>\n<p>{}{idx}</p>\n",
                xml(&g.gate),
                xml(&g.inputs.join(" ")),
                xml(&g.summary)
            ));
            if !g.findings.is_empty() {
                s.push_str("<table><tr><th>severity</th><th>rule</th><th>location</th><th>message</th></tr>\n");
                for f in &g.findings {
                    s.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
                        f.severity,
                        xml(&f.rule),
                        xml(&f.location.to_string()),
                        xml(&f.message)
                    ));
                }
                s.push_str("</table>\n");
            }
            if let Some(section) = &g.html {
                s.push_str(section);
            }
        }
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::GateResult;

    fn results() -> Vec<StageResult> {
        vec![StageResult {
            name: "data <1>".into(),
            passed: false,
            gates: vec![
                GateResult {
                    gate: "pii-scan".into(),
                    inputs: vec!["a&b.csv".into()],
                    passed: false,
                    summary: "3 matches at or above 0.5: EMAIL 3".into(),
                    ledger_index: Some(7),
                    findings: Vec::new(),
                    error: false,
                    html: None,
                },
                GateResult {
                    gate: "scan".into(),
                    inputs: vec!["m".into()],
                    passed: true,
                    summary: "0 findings".into(),
                    ledger_index: None,
                    findings: Vec::new(),
                    error: false,
                    html: None,
                },
            ],
        }]
    }

    #[test]
    fn every_format_names_each_gate_escaped() {
        let r = results();
        let t = table(&r);
        assert!(
            t.contains("stage data <1>: FAILED") && t.contains("[ledger 7]"),
            "{t}"
        );
        let j = junit(&r);
        assert!(j.contains("tests=\"2\" failures=\"1\""), "{j}");
        assert!(j.contains("a&amp;b.csv") && !j.contains("a&b"), "{j}");
        assert!(j.contains("<failure message=\"3 matches"), "{j}");
        let h = html(&r);
        assert!(
            h.contains("Stage data &lt;1&gt;") && h.contains("ledger entry 7"),
            "{h}"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&r).unwrap()).unwrap();
        assert_eq!(v[0]["gates"][0]["ledger_index"], 7);
        assert!(v[0]["gates"][1].get("ledger_index").is_none());
        let s: serde_json::Value = serde_json::from_str(&sarif(&r)).unwrap();
        assert_eq!(s["version"], "2.1.0");
        // The failed pii gate has no findings: it is a result all the same.
        let results = s["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{s}");
        assert_eq!(results[0]["ruleId"], "GATE-FAILED");
    }
}
