//! What a gate run gives: the verdict, a typed report, and the evidence
//! it becomes.

use rampart_core::{Finding, Severity};
use rampart_evidence::{Project, Started};
use serde::Serialize;
use std::path::PathBuf;

/// One gate run.
#[derive(Debug)]
pub struct Outcome {
    /// The gate as attested (`scan`, `verify`, `pii-scan`, `reid-risk`).
    pub gate: &'static str,
    /// What it examined, as given.
    pub inputs: Vec<PathBuf>,
    pub passed: bool,
    /// One line for people.
    pub summary: String,
    pub report: Report,
    /// Findings worth listing beside the summary (above info).
    pub findings: Vec<Finding>,
    /// What a front end should show besides the report (records
    /// skipped, by line).
    pub warnings: Vec<String>,
    pub started: Started,
}

/// Each gate's own result: what its front end renders, and the body of
/// its attestation ([`Report::details`]).
#[derive(Debug)]
pub enum Report {
    Scan {
        report: Box<rampart_core::Report>,
        fail_on: Severity,
    },
    Verify(Box<Verification>),
    Sign(Box<crate::gates::Signed>),
    Pii(Box<rampart_dataset::pii::Scan>),
    Risk(Box<rampart_dataset::risk::Report>),
    Profile(Box<crate::Profiled>),
    /// With the expectations file's SHA-256.
    Validate(Box<rampart_dataset::validate::Report>, String),
    Poison(Box<crate::data::PoisonRun>),
    Filter(Box<crate::data::FilterRun>),
    Drift(Box<rampart_dataset::drift::Drift>),
    /// With the direction, the score threshold and the output written.
    Mask(
        Box<rampart_dataset::pii::Masked>,
        rampart_dataset::pii::Direction,
        f32,
        PathBuf,
    ),
    Eval(Box<crate::EvalRun>),
    Compare(Box<rampart_eval::Comparison>),
    /// Records of a dataset could not be read: the gate failed.
    Unread {
        message: String,
    },
}

/// A signature checked against the files.
#[derive(Debug)]
pub struct Verification {
    pub signature: PathBuf,
    /// How the signer was trusted (`P-256 key`, `certificate chain to one
    /// of 2 trusted roots`).
    pub trust: String,
    /// The signature verified and the files were compared (None: the
    /// signature itself failed).
    pub verified: Option<rampart_sign::Verified>,
    /// Why the signature itself failed.
    pub failure: Option<String>,
}

#[derive(Serialize)]
struct VerifyDetails<'a> {
    signature: &'a PathBuf,
    trust: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a rampart_sign::Diff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl Report {
    /// The gate's fields of its attestation (the common header is added
    /// when it is recorded).
    pub fn details(&self) -> serde_json::Value {
        match self {
            Report::Scan { report, fail_on } => {
                serde_json::json!({"fail_on": fail_on, "counts": report.counts()})
            }
            Report::Verify(v) => serde_json::to_value(VerifyDetails {
                signature: &v.signature,
                trust: &v.trust,
                resources: v.verified.as_ref().map(|x| x.signed.resources.len()),
                diff: v.verified.as_ref().map(|x| &x.diff),
                error: v.failure.as_deref(),
            })
            .unwrap_or_default(),
            Report::Sign(s) => serde_json::json!({
                "signature": s.signature,
                "resources": s.resources,
                "root_digest": s.root_digest,
            }),
            Report::Pii(scan) => scan.details(),
            Report::Risk(r) => serde_json::to_value(r).unwrap_or_default(),
            Report::Profile(p) => serde_json::json!({
                "rows": p.rows,
                "columns": p.columns,
                "merged": p.merged,
                "profile_sha256": p.profile_sha256,
            }),
            Report::Validate(r, digest) => {
                let mut d = r.details();
                if let Some(map) = d.as_object_mut() {
                    map.insert("expectations_sha256".into(), digest.clone().into());
                }
                d
            }
            Report::Poison(p) => p.report.details(p.options.label.as_deref()),
            Report::Filter(f) => serde_json::json!({
                "rows": f.filtered.rows,
                "dropped": f.filtered.dropped,
                "dropped_by_kind": f.filtered.dropped_by_kind,
                "report_sha256": f.report_sha256,
            }),
            Report::Drift(d) => d.details(),
            Report::Eval(e) => e.details(),
            Report::Compare(c) => serde_json::json!({
                "new_sha256": c.new.sha256,
                "old_sha256": c.old.sha256,
                "data_sha256": c.data.sha256,
                "rows": c.rows,
                "margin": c.margin,
                "bootstrap": c.bootstrap,
                "overall": c.overall,
                "regressed": c.regressed,
            }),
            Report::Mask(m, direction, threshold, _) => m.details(*direction, *threshold),
            Report::Unread { message } => {
                serde_json::json!({"summary": message, "unread": true})
            }
        }
    }
}

impl Report {
    /// Writes what machines read (`--json`), streamed from the structs
    /// (listing every match of a big file builds no JSON tree). False
    /// for reports that are only text.
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> serde_json::Result<bool> {
        fn put<T: Serialize + ?Sized>(
            w: &mut dyn std::io::Write,
            x: &T,
        ) -> serde_json::Result<bool> {
            serde_json::to_writer_pretty(w, x).map(|()| true)
        }
        match self {
            Report::Pii(s) => put(w, s.as_ref()),
            Report::Risk(r) => put(w, r.as_ref()),
            Report::Validate(r, _) => put(w, r.as_ref()),
            Report::Drift(d) => put(w, &d.report),
            Report::Poison(p) => {
                #[derive(Serialize)]
                struct Out<'a> {
                    file: &'a PathBuf,
                    sha256: String,
                    #[serde(flatten)]
                    report: &'a rampart_dataset::poison::Report,
                }
                let sha256 = rampart_sign::artifact_digest(&p.file)
                    .map_err(|e| serde_json::Error::io(std::io::Error::other(e.to_string())))?;
                put(
                    w,
                    &Out {
                        file: &p.file,
                        sha256,
                        report: &p.report,
                    },
                )
            }
            Report::Filter(f) => put(w, f.as_ref()),
            Report::Eval(e) => put(w, e.as_ref()),
            Report::Compare(c) => put(w, c.as_ref()),
            _ => Ok(false),
        }
    }

    /// What people read.
    pub fn text(&self) -> String {
        match self {
            Report::Scan { report, fail_on } => {
                rampart_core::render::table(report, *fail_on, false)
            }
            Report::Verify(v) => format!(
                "{}: {}\n",
                v.signature.display(),
                v.failure.as_deref().unwrap_or("verified")
            ),
            Report::Sign(s) => format!(
                "signed {} ({} resources, root sha256 {}) with a {} key: {}\n",
                s.path.display(),
                s.resources,
                s.root_digest,
                s.key,
                s.signature.display()
            ),
            Report::Pii(s) => s.text(),
            Report::Risk(r) => r.text(),
            Report::Unread { message } => format!("{message}\n"),
            Report::Profile(p) => format!(
                "{} rows, {} columns -> {}\n{}",
                p.rows,
                p.columns,
                p.output.display(),
                rampart_dataset::profile::summary_table(&p.summary)
            ),
            Report::Validate(r, _) => r.text(),
            Report::Poison(p) => p.report.text(&p.file, p.options.min_share),
            Report::Filter(f) => f.text(),
            Report::Drift(d) => rampart_dataset::drift::text(&d.report),
            Report::Mask(m, _, _, output) => m.text(output),
            Report::Eval(e) => e.text(),
            Report::Compare(c) => c.text(),
        }
    }
}

impl Outcome {
    /// Records the run in `project`'s ledger as a signed attestation;
    /// returns its index. `policy_sha256` names the policy that
    /// configured the run ([`crate::policy_digest`]).
    pub fn record(&self, project: &Project, policy_sha256: &str) -> Result<u64, crate::Error> {
        let mut details = self.report.details();
        if let Some(map) = details.as_object_mut() {
            map.insert("summary".into(), self.summary.clone().into());
        }
        Ok(project.record(&rampart_evidence::Outcome {
            gate: self.gate,
            inputs: &self.inputs,
            passed: self.passed,
            policy_sha256,
            started: self.started,
            details,
        })?)
    }
}
