//! Rampart's gates, one way.
//!
//! A [`Gate`] examines artifacts and returns an [`Outcome`]: passed or
//! not, a one-line summary, a typed [`Report`] (the gate's own result and
//! the body of its attestation), findings and warnings. Every front end
//! runs gates through here, so the same gate leaves the same evidence
//! whether `rampart scan`, `rampart run` or a server started it:
//! [`Outcome::record`] writes it to the ledger with the common
//! [`rampart_evidence::Header`].
//!
//! [`pipeline::run`] runs the stages of `rampart.toml` ([`GateSpec`]s)
//! and [`render`] turns their results into a table, JSON, JUnit XML,
//! HTML or SARIF. Nothing here prints or exits.
//!
//! [`GateSpec`]: rampart_core::GateSpec

mod data;
mod eval;
pub mod eval_html;
mod gates;
mod outcome;
mod request;

pub mod pipeline;
pub mod render;

pub use data::{Drift, Filter, FilterRun, Mask, Poison, PoisonRun, Profile, Profiled, Validate};
pub use eval::{Attacking, Compare, Eval, EvalRun};
pub use gates::{scan_report, PiiScan, RiskCheck, Scan, Sign, Signed, Verify};
pub use outcome::{Outcome, Report, Verification};
pub use request::{HashMethod, Hashing, SignRequest, VerifyRequest};

use std::path::PathBuf;

/// A gate: what it examines and how it judges it.
pub trait Gate {
    /// Its name in attestations and the files it reads: what a run that
    /// could not read its input is attested about ([`unread`]).
    fn attested(&self) -> (&'static str, Vec<PathBuf>);

    /// Runs the gate. `Err` means it could not run (an unreadable key, a
    /// bad option); a gate that ran and failed is `Ok` with
    /// `passed == false`.
    fn run(&self, ctx: &Context) -> Result<Outcome, Error>;
}

/// What every gate run needs besides its own settings.
pub struct Context<'a> {
    /// The policy (`rampart.toml`, or the defaults).
    pub policy: &'a rampart_core::Policy,
    /// Bytes of model files scanned or hashed.
    pub progress: &'a dyn rampart_core::Progress,
    /// Reads and steps of the data gates.
    pub watch: &'a dyn rampart_dataset::Watch,
}

/// The rules every gate can report, for `rampart rules` and SARIF.
pub fn catalog() -> rampart_core::Catalog {
    rampart_core::Catalog::new(&[
        rampart_scan::RULES,
        rampart_table::RULES,
        rampart_eval::RULES,
        RULES,
    ])
}

/// The pipeline's own rules: a gate that failed or could not run, for
/// reports (SARIF) whose readers see only findings.
pub static RULES: &[rampart_core::Rule] = &[
    rampart_core::Rule {
        id: "GATE-FAILED",
        name: "pipeline-gate-failed",
        default_severity: rampart_core::Severity::High,
        summary: "A pipeline gate failed without findings of its own: personal data found, k or l under the minimum, a signature that does not match, data that drifted.",
        description: "Scan gates report their findings; the other gates judge a whole dataset or folder. A report that lists only findings (SARIF) would show such a failure as nothing, so each one is a result of this rule, located at the gate's input, with the gate's summary as its message.",
        fix: "Read the gate's summary (rampart run's table, or --format json); fix the input or the policy and run again.",
        references: &["docs/evidence.md"],
    },
    rampart_core::Rule {
        id: "GATE-ERROR",
        name: "pipeline-gate-could-not-run",
        default_severity: rampart_core::Severity::High,
        summary: "A pipeline gate could not run: a missing or unreadable input, key or signature, a bad setting.",
        description: "A gate that did not run checked nothing, so the run is an error (exit 2) and the report says so: a result of this rule per such gate, and the SARIF invocation marked unsuccessful.",
        fix: "Read the gate's summary, which names the file or setting; fix it and run again.",
        references: &["docs/evidence.md", "docs/fail-closed.md"],
    },
];

/// SHA-256 of the policy file, or `default` when there is none: what
/// attestations record as `policy_sha256`.
pub fn policy_digest(policy: &rampart_core::Policy) -> String {
    match &policy.source {
        Some(p) => std::fs::read(p)
            .map(|b| rampart_evidence::sha256_hex(&b))
            .unwrap_or_else(|_| "unreadable".into()),
        None => "default".into(),
    }
}

/// Why a gate could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scanner settings of the policy are not valid.
    #[error("invalid policy {path}: {source}")]
    Policy {
        path: String,
        source: rampart_scan::Error,
    },
    /// The scanner could not run at all.
    #[error(transparent)]
    Scan(#[from] rampart_core::CheckError),
    #[error(transparent)]
    Dataset(#[from] rampart_dataset::Error),
    #[error(transparent)]
    Sign(#[from] rampart_sign::Error),
    #[error(transparent)]
    Evidence(#[from] rampart_evidence::Error),
    #[error(transparent)]
    Eval(#[from] rampart_eval::Error),
    /// A gate the pipeline cannot run as configured.
    #[error("{0}")]
    Config(String),
    #[error("stage {stage}: {source}")]
    Stage {
        stage: String,
        #[source]
        source: Box<Error>,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Drift with nothing to compare: not a pass. `table` shows what was
    /// compared.
    #[error("no column could be tested ({columns} shared: identifiers, free text, or null on both sides): drift cannot be judged, so this is not a pass; compare columns of categories or numbers")]
    Untestable { table: String, columns: usize },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a run of `gate` whose input held records that could
/// not be read (`e`): failed, and attested as failed by every front end,
/// the pipeline as the command line.
pub fn unread(gate: &dyn Gate, e: &Error, started: rampart_evidence::Started) -> Outcome {
    let (name, inputs) = gate.attested();
    let summary = format!("DATA-UNREAD {e}");
    Outcome {
        gate: name,
        inputs,
        passed: false,
        summary: summary.clone(),
        findings: Vec::new(),
        warnings: Vec::new(),
        report: Report::Unread { message: summary },
        started,
    }
}

/// Whether an error (any link of a chain) is a dataset's records that
/// could not be read: a gate failure (exit 1), not a broken command.
pub fn is_unread(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<rampart_dataset::Error>()
        .is_some_and(rampart_dataset::Error::is_unread)
        || e.downcast_ref::<Error>().is_some_and(Error::is_unread)
        || matches!(
            e.downcast_ref::<rampart_table::Error>(),
            Some(rampart_table::Error::Unread { .. })
        )
}

impl Error {
    /// Records of a dataset could not be read: the gate failed on its
    /// input rather than on its configuration.
    pub fn is_unread(&self) -> bool {
        match self {
            Error::Dataset(d) => d.is_unread(),
            Error::Eval(e) => e.is_unread(),
            Error::Stage { source, .. } => source.is_unread(),
            _ => false,
        }
    }
}
