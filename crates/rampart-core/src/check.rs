use crate::{Report, Rule};
use std::path::PathBuf;

/// Progress of a long check, reported in bytes. The CLI draws a bar; an
/// embedder may ignore it ([`NoProgress`]).
pub trait Progress: Sync {
    /// Work discovered: `bytes` more to do.
    fn add_total(&self, bytes: u64);
    /// Work done.
    fn advance(&self, bytes: u64);
    /// What is being worked on now.
    fn set_message(&self, msg: &str);
}

/// A [`Progress`] that discards everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn add_total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set_message(&self, _: &str) {}
}

/// One analysis that a gate runs. A check never prints and never exits:
/// it returns a report (findings about the artifacts) or an error (the
/// check could not run at all).
pub trait Check {
    /// Stable id, e.g. `scan`.
    fn id(&self) -> &'static str;
    /// Every rule this check can emit.
    fn rules(&self) -> &'static [Rule];
    /// Examine `inputs` and report. Inputs that cannot be read are listed
    /// in `Report::errors` (the rest is still examined); `Err` means the
    /// check could not run at all.
    fn run(&self, inputs: &[PathBuf], progress: &dyn Progress) -> Result<Report, CheckError>;
}

/// Why a check could not run at all (unreadable inputs are not this:
/// they are listed in the report).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);
