//! Evidence of gate runs.
//!
//! Every gate run, whichever front end started it (the CLI, the pipeline,
//! later the gateway), is recorded the same way: an in-toto Statement v1
//! about the digests of the artifacts it examined, whose predicate starts
//! with the same [`Header`] fields, in a DSSE envelope signed with the
//! project's attestation key, appended to the project's Merkle ledger.
//!
//! - [`Project`]: the `.rampart/` folder (ledger and keys), created by
//!   [`Project::init`] and found by [`Project::find`].
//! - [`Project::record`]: one outcome as a signed attestation.
//! - [`Project::evidence`]: every attestation about an artifact, each
//!   signature and checkpoint inclusion checked.
//! - [`admission::decide`]: whether that evidence admits the artifact.
//!
//! Nothing here prints or exits.

mod collect;
mod log;
mod project;
mod record;

pub mod admission;

pub use collect::{Attestation, Evidence, Signed};
pub use log::{read_entry, Consistency, MAX_ENTRY};
pub use project::Project;
pub use record::{predicate_type, sha256_hex, Header, Outcome, Started, PREDICATE_PREFIX};

use std::path::PathBuf;

/// What can go wrong reading or writing evidence; each names its file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key {
        path: PathBuf,
        source: rampart_attest::Error,
    },
    #[error("{0}")]
    Write(std::io::Error),
    #[error("cannot open the ledger in {dir}: {source}")]
    Open {
        dir: PathBuf,
        source: rampart_ledger::StoreError,
    },
    #[error("the ledger in {dir}: {source}")]
    Ledger {
        dir: PathBuf,
        source: rampart_ledger::StoreError,
    },
    #[error("the ledger in {dir} gave no index for an appended entry")]
    NoIndex { dir: PathBuf },
    #[error("{path} exists; refusing to overwrite it")]
    Exists { path: PathBuf },
    #[error("origin {origin:?}: {message}")]
    Origin { origin: String, message: String },
    /// The cause names the file.
    #[error("cannot hash {source}")]
    Digest {
        path: PathBuf,
        source: rampart_sign::Error,
    },
    #[error("the predicate of a {gate} attestation is not a JSON object")]
    Predicate { gate: String },
    /// An input refused, said in full.
    #[error("{0}")]
    Refused(String),
    #[error(
        "no gate required: pass --require scan,verify or set [admission] require in rampart.toml"
    )]
    NothingRequired,
}
