//! Registry events: every change is one of these, signed and appended to
//! the ledger as an attestation about the version's digest before the
//! store applies it. The store is a cache of the ledger's events.

use crate::name::Name;
use rampart_attest::Envelope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The predicate types of registry events start with this.
pub const PREDICATE_PREFIX: &str = "https://rampart.dev/attestation/registry-";

/// The predicate type of an approval statement (signed by the approver).
pub const APPROVAL_TYPE: &str = "https://rampart.dev/attestation/registry-approval/v1";

/// The predicate type of a registration statement (signed by the author).
pub const REGISTRATION_TYPE: &str = "https://rampart.dev/attestation/registry-authorship/v1";

/// An artifact a version names: a dataset or a parent model, by digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// As given (`data/train.parquet`, `base@2`).
    pub name: String,
    pub sha256: String,
}

/// Where a version came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The model version it was fine-tuned from (`base@2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub train: Vec<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eval: Vec<Artifact>,
}

/// One change to the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A new version: its digest, where its bytes are, who made it.
    Register {
        model: Name,
        version: u64,
        sha256: String,
        /// Where the bytes are (a path as given, or a URL); never re-read
        /// under this version without checking the digest.
        location: String,
        /// The author: the key id of the key that signed `authorship`.
        author: String,
        /// The author's signed statement over the digest.
        authorship: Envelope,
        #[serde(default)]
        lineage: Lineage,
        #[serde(default)]
        meta: BTreeMap<String, String>,
    },
    /// An approver's signed statement that `version` may go to `alias`.
    Approve {
        model: Name,
        version: u64,
        sha256: String,
        alias: Name,
        /// The approver's key id.
        approver: String,
        approval: Envelope,
    },
    /// `alias` now points at `version`, its evidence and approvals checked.
    Promote {
        model: Name,
        version: u64,
        sha256: String,
        alias: Name,
        /// Where the alias pointed before (None: it is new).
        previous: Option<u64>,
        /// The gates whose evidence admitted it, and the approvers counted.
        gates: Vec<String>,
        approvers: Vec<String>,
    },
    /// `alias` moved back to a version it pointed at before.
    Rollback {
        model: Name,
        version: u64,
        sha256: String,
        alias: Name,
        previous: u64,
        reason: String,
    },
    /// A version no alias may point at any more.
    Deprecate {
        model: Name,
        version: u64,
        sha256: String,
        reason: String,
    },
    /// Someone asked to delete a version: versions are never deleted, and
    /// the request is on the record.
    DeleteRefused {
        model: Name,
        version: u64,
        sha256: String,
        reason: String,
    },
}

impl Event {
    /// The event's name in the ledger (`registry-promote`...).
    pub fn gate(&self) -> &'static str {
        match self {
            Event::Register { .. } => "registry-register",
            Event::Approve { .. } => "registry-approve",
            Event::Promote { .. } => "registry-promote",
            Event::Rollback { .. } => "registry-rollback",
            Event::Deprecate { .. } => "registry-deprecate",
            Event::DeleteRefused { .. } => "registry-delete-refused",
        }
    }

    pub fn model(&self) -> &Name {
        match self {
            Event::Register { model, .. }
            | Event::Approve { model, .. }
            | Event::Promote { model, .. }
            | Event::Rollback { model, .. }
            | Event::Deprecate { model, .. }
            | Event::DeleteRefused { model, .. } => model,
        }
    }

    pub fn version(&self) -> u64 {
        match self {
            Event::Register { version, .. }
            | Event::Approve { version, .. }
            | Event::Promote { version, .. }
            | Event::Rollback { version, .. }
            | Event::Deprecate { version, .. }
            | Event::DeleteRefused { version, .. } => *version,
        }
    }

    /// The digest of the version the event is about.
    pub fn sha256(&self) -> &str {
        match self {
            Event::Register { sha256, .. }
            | Event::Approve { sha256, .. }
            | Event::Promote { sha256, .. }
            | Event::Rollback { sha256, .. }
            | Event::Deprecate { sha256, .. }
            | Event::DeleteRefused { sha256, .. } => sha256,
        }
    }

    /// One line for people.
    pub fn text(&self) -> String {
        let v = format!("{}@{}", self.model(), self.version());
        match self {
            Event::Register {
                author, location, ..
            } => format!("register {v} from {location} by key {}", short(author)),
            Event::Approve {
                alias, approver, ..
            } => format!("approve {v} for {alias} by key {}", short(approver)),
            Event::Promote {
                alias, previous, ..
            } => match previous {
                Some(p) => format!("promote {v} to {alias} (was {p})"),
                None => format!("promote {v} to {alias} (new alias)"),
            },
            Event::Rollback {
                alias,
                previous,
                reason,
                ..
            } => format!("rollback {alias} to {v} (was {previous}): {reason}"),
            Event::Deprecate { reason, .. } => format!("deprecate {v}: {reason}"),
            Event::DeleteRefused { reason, .. } => {
                format!("delete {v} refused (versions are kept): {reason}")
            }
        }
    }
}

/// The first 12 characters of a key id, for people.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
