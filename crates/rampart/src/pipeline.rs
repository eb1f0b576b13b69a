//! `rampart run [STAGE...]`: the stages of `rampart.toml`, in order, each
//! gate attested in the ledger when there is one; output as a table,
//! JSON, JUnit XML for CI systems, or one self-contained HTML page.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rampart_core::{GateKind, GateSpec, Policy, Report, Severity};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum RunFormat {
    Table,
    Json,
    Junit,
    Html,
    Sarif,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Stages to run, in the policy's order [default: all].
    stages: Vec<String>,
    /// Run later stages even after one fails.
    #[arg(long)]
    keep_going: bool,
    /// The report's format: a table for people, JSON, JUnit XML for CI
    /// test views, a self-contained HTML page, or SARIF 2.1.0.
    #[arg(long, short, value_enum, default_value_t = RunFormat::Table)]
    format: RunFormat,
    /// Write the report to FILE (atomically).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Policy file [default: rampart.toml here or in a parent folder].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Serialize)]
struct GateResult {
    gate: String,
    inputs: Vec<String>,
    passed: bool,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger_index: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<rampart_core::Finding>,
}

#[derive(Serialize)]
struct StageResult {
    name: String,
    passed: bool,
    gates: Vec<GateResult>,
}

/// Inputs are relative to the policy file's folder.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A gate's inputs as the policy names them, for reports.
fn input_names(g: &GateSpec) -> Vec<String> {
    g.inputs.iter().map(|p| p.display().to_string()).collect()
}

fn run_gate(g: &GateSpec, policy: &Policy, base: &Path) -> Result<GateResult> {
    let inputs: Vec<PathBuf> = g.inputs.iter().map(|p| resolve(base, p)).collect();
    let names = input_names(g);
    let (gate, passed, summary, findings, predicate) = match g.gate {
        GateKind::Sign => {
            bail!("`sign` is not a pipeline gate: sign with `rampart sign`, then verify in a stage")
        }
        GateKind::Scan => {
            let mut report: Report = crate::cli::scan_report(&inputs, policy, true)?;
            report.inventory.clear();
            let fail_on = g.fail_on.unwrap_or(policy.fail_on);
            let passed = !report.fails(fail_on) && report.errors.is_empty();
            let c = report.counts();
            let summary = format!(
                "{} findings ({} critical, {} high, {} medium) against fail_on {}{}",
                report.findings.len(),
                c.critical,
                c.high,
                c.medium,
                fail_on,
                if report.errors.is_empty() {
                    String::new()
                } else {
                    format!("; {} inputs unreadable", report.errors.len())
                }
            );
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .cloned()
                .collect();
            let predicate = serde_json::json!({"passed": passed, "fail_on": fail_on, "counts": c});
            ("scan", passed, summary, findings, predicate)
        }
        GateKind::Verify => {
            let [path] = inputs.as_slice() else {
                bail!("a verify gate takes exactly one input (the model folder or file)");
            };
            let key = g.key.as_deref().map(|k| resolve(base, k));
            let ca: Vec<PathBuf> = g.ca.iter().map(|c| resolve(base, c)).collect();
            if key.is_some() != ca.is_empty() {
                bail!("a verify gate needs exactly one of key or ca");
            }
            let trust = crate::signing::trust(key.as_deref(), &ca)?;
            let sig = match &g.signature {
                Some(s) => resolve(base, s),
                None => crate::signing::default_signature(path),
            };
            let bundle = crate::signing::read_bundle(&sig)?;
            let ignore: Vec<String> = crate::signing::inside(path, &sig).into_iter().collect();
            let (passed, summary) = match rampart_sign::verify(
                &bundle,
                &trust,
                path,
                &ignore,
                false,
                None,
                &rampart_core::NoProgress,
            ) {
                Ok(v) if v.diff.is_empty() => (
                    true,
                    format!("{} resources match the signature", v.signed.resources.len()),
                ),
                Ok(v) => (false, format!("does not match its signature: {}", v.diff)),
                Err(e) => (false, e.to_string()),
            };
            let predicate = serde_json::json!({"passed": passed, "summary": summary});
            ("verify", passed, summary, Vec::new(), predicate)
        }
        GateKind::Pii => {
            let policy = rampart_pii::transform::Policy {
                threshold: g.threshold.unwrap_or(0.5),
                encoding: crate::data::checked_encoding(g.encoding.as_deref())?,
                ..Default::default()
            };
            let (_, counts, files) = match crate::data::scan_files(&inputs, &policy, 0) {
                Ok(r) => r,
                // Unread records fail the gate, attested as failed.
                Err(e) if crate::is_unread(&e) => return unread("pii-scan", &inputs, names, &e),
                Err(e) => return Err(e),
            };
            let total: u64 = counts.values().sum();
            let listed: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let summary = if total == 0 {
                format!("no personal data at or above {}", policy.threshold)
            } else {
                format!(
                    "{total} matches at or above {}: {}",
                    policy.threshold,
                    listed.join(", ")
                )
            };
            let predicate = crate::data::scan_predicate(&counts, &files, &policy, "pipeline");
            ("pii-scan", total == 0, summary, Vec::new(), predicate)
        }
        GateKind::Risk => {
            let [path] = inputs.as_slice() else {
                bail!("a risk gate takes exactly one input (the dataset)");
            };
            if g.quasi.is_empty() {
                bail!("a risk gate needs quasi = [\"column\", ...]");
            }
            let q = crate::data::RiskQuery {
                path,
                quasi: &g.quasi,
                sensitive: g.sensitive.as_deref(),
                min_k: g.min_k.unwrap_or(5),
                min_l: g.min_l.unwrap_or(2),
                max_rows: 20,
            };
            let reading = rampart_pii::transform::Policy {
                encoding: crate::data::checked_encoding(g.encoding.as_deref())?,
                ..Default::default()
            };
            let report = match crate::data::measure_risk(&q, &reading) {
                Ok(r) => r,
                Err(e) if crate::is_unread(&e) => return unread("reid-risk", &inputs, names, &e),
                Err(e) => return Err(e),
            };
            let passed = report["passed"].as_bool().unwrap_or(false);
            let summary = format!(
                "k = {} (minimum {}), {} rows in classes below it{}",
                report["k"],
                q.min_k,
                report["rows_below_k"],
                match q.sensitive {
                    Some(s) => format!("; l = {} for {s} (minimum {})", report["l"], q.min_l),
                    None => String::new(),
                }
            );
            ("reid-risk", passed, summary, Vec::new(), report)
        }
    };
    finish(gate, &inputs, names, passed, summary, findings, predicate)
}

/// A data gate whose input held records that could not be read: failed,
/// and attested as failed.
fn unread(
    gate: &str,
    inputs: &[PathBuf],
    names: Vec<String>,
    e: &anyhow::Error,
) -> Result<GateResult> {
    let summary = format!("DATA-UNREAD {e:#}");
    let predicate = serde_json::json!({"passed": false, "summary": summary, "unread": true});
    finish(gate, inputs, names, false, summary, Vec::new(), predicate)
}

/// Records a gate's outcome in the ledger (when there is one).
#[allow(clippy::too_many_arguments)]
fn finish(
    gate: &str,
    inputs: &[PathBuf],
    names: Vec<String>,
    passed: bool,
    summary: String,
    findings: Vec<rampart_core::Finding>,
    predicate: serde_json::Value,
) -> Result<GateResult> {
    let ledger_index = match crate::attest::ledger_dir(None) {
        Some(dir) => Some(crate::attest::record(&dir, gate, inputs, predicate)?),
        None => None,
    };
    Ok(GateResult {
        gate: gate.to_string(),
        inputs: names,
        passed,
        summary,
        ledger_index,
        findings,
    })
}

impl RunArgs {
    /// Every stage, kept going, written as `format` to `output`.
    pub fn all(format: RunFormat, output: PathBuf) -> Self {
        RunArgs {
            stages: Vec::new(),
            keep_going: true,
            format,
            output: Some(output),
            config: None,
        }
    }
}

pub fn run(a: &RunArgs) -> Result<ExitCode> {
    if let Some(o) = &a.output {
        crate::output::check(o, &[])?;
    }
    let policy = crate::cli::load_policy(a.config.as_deref())?;
    if policy.stages.is_empty() {
        bail!("the policy has no [[stage]]; see `rampart init` or the README's Pipelines section");
    }
    for s in &a.stages {
        if !policy.stages.iter().any(|st| &st.name == s) {
            let known: Vec<&str> = policy.stages.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "no stage {s:?} in the policy (stages: {})",
                known.join(", ")
            );
        }
    }
    let base = policy
        .source
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // The table on stdout lists every gate: say each as it ends only when
    // the report goes elsewhere, and show a spinner while it runs.
    let live = a.output.is_some() || !matches!(a.format, RunFormat::Table);
    let mut results = Vec::new();
    let mut errors = 0usize;
    for stage in policy
        .stages
        .iter()
        .filter(|s| a.stages.is_empty() || a.stages.contains(&s.name))
    {
        let mut gates = Vec::new();
        for g in &stage.gates {
            let progress = crate::progress::spinner(&format!("{} / {:?} gate", stage.name, g.gate));
            let r = run_gate(g, &policy, &base).with_context(|| format!("stage {}", stage.name));
            progress.finish_and_clear();
            // A gate that could not run failed: the run goes on as a
            // failure would (--keep-going), the report is still written,
            // and the exit code says error (2).
            let r = r.unwrap_or_else(|e| {
                errors += 1;
                GateResult {
                    gate: g.gate.attested_as().to_string(),
                    inputs: input_names(g),
                    passed: false,
                    summary: format!("error: {}", crate::error_chain(&e)),
                    ledger_index: None,
                    findings: Vec::new(),
                }
            });
            if live {
                eprintln!(
                    "{:<5} {} / {} {}: {}",
                    if r.passed { "ok" } else { "FAIL" },
                    stage.name,
                    r.gate,
                    r.inputs.join(" "),
                    r.summary
                );
            }
            gates.push(r);
        }
        let passed = gates.iter().all(|g| g.passed);
        results.push(StageResult {
            name: stage.name.clone(),
            passed,
            gates,
        });
        if !passed && !a.keep_going {
            eprintln!(
                "stage {} failed; later stages not run (--keep-going runs them)",
                stage.name
            );
            break;
        }
    }
    // Checkpoint the ledger, so that the run's attestations can be proven.
    if let Some(dir) = crate::attest::ledger_dir(None) {
        let size = crate::ledger::checkpoint_now(&dir)?;
        eprintln!(
            "ledger checkpoint signed at size {size} ({})",
            dir.display()
        );
    }
    let text = match a.format {
        RunFormat::Table => table(&results),
        RunFormat::Json => serde_json::to_string_pretty(&results)? + "\n",
        RunFormat::Junit => junit(&results),
        RunFormat::Html => html(&results),
        RunFormat::Sarif => {
            let mut report = Report::new("run");
            for g in results.iter().flat_map(|s| &s.gates) {
                report.inputs.extend(g.inputs.iter().cloned());
                report.findings.extend(g.findings.iter().cloned());
            }
            rampart_core::render::sarif(&report, &crate::cli::catalog())
        }
    };
    match &a.output {
        Some(p) => rampart_core::write_atomic(p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(if errors > 0 {
        eprintln!("{errors} gate(s) could not run (exit 2): see their summaries");
        ExitCode::from(2)
    } else if results.iter().all(|s| s.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn table(results: &[StageResult]) -> String {
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

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: a test suite per stage, a test case per gate.
fn junit(results: &[StageResult]) -> String {
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

/// One HTML page, styles inline, no external assets.
fn html(results: &[StageResult]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rampart pipeline report</title>\n<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h2{margin-top:1.5em}.ok{color:#176f2c}.fail{color:#b00020;font-weight:bold}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:12px}</style></head><body>\n<h1>Rampart pipeline report</h1>\n",
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
        }
    }
    s.push_str("</body></html>\n");
    s
}
