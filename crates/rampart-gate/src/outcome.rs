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
    Pii(Box<rampart_dataset::pii::Scan>),
    Risk(Box<rampart_dataset::risk::Report>),
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
            Report::Pii(scan) => scan.details(),
            Report::Risk(r) => serde_json::to_value(r).unwrap_or_default(),
            Report::Unread { message } => {
                serde_json::json!({"summary": message, "unread": true})
            }
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
