//! The model registry: versions bound to the digest of their bytes and to
//! the evidence about that digest; aliases (`staging`, `production`)
//! moved only by events that are signed, appended to the project's
//! ledger and checked against `[registry]` in `rampart.toml`.
//!
//! - [`Registry::register`]: a version is the OpenSSF model-signing digest
//!   of a file or folder, numbered per model; the same bytes twice give
//!   the same version. The author signs a statement over the digest.
//! - [`Registry::approve`]: an approver's signed statement over model,
//!   version, digest and alias; never the author's.
//! - [`Registry::promote`]: refused with every reason unless the alias's
//!   rule is met; refused naming the winner when the alias moved
//!   meanwhile.
//! - [`Registry::rollback`], [`Registry::deprecate`],
//!   [`Registry::delete`] (always refused, and recorded).
//! - [`Registry::verify`] and [`Registry::rebuild`]: the store is a cache
//!   of the ledger's events; any edit of the store is found and named.
//!
//! Stores ([`store`]): SQLite under `.rampart/` by default, PostgreSQL
//! for a team. Nothing here prints or exits.

mod api;
mod event;
pub mod mlflow;
mod name;
mod registry;
mod request;
pub mod store;

pub use api::{Reply, Request};
pub use event::{short, Artifact, Event, Lineage, APPROVAL_TYPE, PREDICATE_PREFIX};
pub use name::{Name, VersionRef, MAX_NAME};
pub use registry::{
    default_store, lineage_text, list_text, AliasCache, AliasState, Dataset, Expect, Listed,
    Recorded, Register, Registered, Registry, Step, Version,
};
pub use request::{
    key_value, read_key, ApproveRequest, Current, PromoteRequest, RegisterRequest, RollbackRequest,
    VersionRequest,
};

use std::path::PathBuf;

/// What can go wrong; refusals and conflicts are the registry saying no,
/// the rest are errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Name(String),
    #[error("registry store: {0}")]
    Store(String),
    #[error(transparent)]
    Evidence(#[from] rampart_evidence::Error),
    #[error("cannot hash {path}: {source}")]
    Digest {
        path: PathBuf,
        source: rampart_sign::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    NotFound(String),
    /// The registry said no, with every reason.
    #[error("{what} refused: {}", reasons.join("; "))]
    Refused { what: String, reasons: Vec<String> },
    /// The bytes at a version's location are not the registered ones.
    #[error("{0}")]
    Changed(String),
    /// Another change won the race.
    #[error("{0}")]
    Conflict(String),
    /// The ledger holds something the registry cannot trust.
    #[error("{0}")]
    Tampered(String),
    #[error("registry event: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// The registry refused (a policy, an approval, a race): exit 1, as a
    /// failed gate; everything else is an error (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Refused { .. } | Error::Conflict(_) | Error::Changed(_)
        )
    }
}
