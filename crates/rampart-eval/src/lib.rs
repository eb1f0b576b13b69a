//! Evaluation gates for ONNX models: inference in process (tract), the
//! quality metrics of scikit-learn with bootstrap confidence intervals,
//! and fairness by group with Fairlearn's definitions.
//!
//! [`evaluate`] takes [`Options`] (a model, a dataset, how its columns
//! map to the model) and returns an [`Evaluation`]: the digests of the
//! bytes it read, every metric with its interval, the calibration curve,
//! and the fairness report when sensitive features are named.
//! [`judge`] weighs it against thresholds. Nothing here prints or
//! records: attestations belong to the gate that calls it.

pub mod adversarial;
pub mod attack;
pub mod bootstrap;
pub mod compare;
pub mod data;
pub mod fairness;
pub mod judge;
pub mod metrics;
pub mod model;
pub mod predictions;
pub mod trees;

mod evaluate;

pub use bootstrap::{Bootstrap, Delta, Estimate};
pub use compare::{compare, CompareOptions, Comparison};
pub use evaluate::{
    evaluate, file_sha256, Artifact, Evaluation, Options, Predictions, Scored, Task,
};
pub use fairness::Aggregate;
pub use judge::{judge, Bound, Measure, Threshold, Verdict, RULES};
pub use metrics::Metric;

/// Why an evaluation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model tract cannot read or run, or outputs rampart cannot use.
    #[error("{0}")]
    Model(String),
    /// A dataset that does not fit the model or the mapping.
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Table(#[from] rampart_table::Error),
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The evaluation data is not the file the policy or the registry
    /// locked.
    #[error("{path}: its SHA-256 is {actual}, but the evaluation data is locked to {expected}: this is not the evaluation set the policy names (a changed or substituted file); evaluate on the locked file, or update the lock where it is set")]
    Locked {
        path: std::path::PathBuf,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Invalid(#[from] metrics::Invalid),
}

impl Error {
    /// Whether the dataset's records could not be read (a gate failure on
    /// its input, as for the data gates).
    pub fn is_unread(&self) -> bool {
        matches!(self, Error::Table(rampart_table::Error::Unread { .. }))
    }
}
