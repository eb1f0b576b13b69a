//! Rampart's evidence log: an append-only Merkle tree (RFC 6962 / RFC 9162
//! hashing, inclusion and consistency proofs) whose states are published
//! as signed checkpoints in the C2SP `tlog-checkpoint` format on
//! `signed-note`.

pub mod checkpoint;
pub mod merkle;
pub mod proof;
pub mod store;

pub use checkpoint::{Checkpoint, NoteKey, NoteVerifier};
pub use merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, ProofError, Tree,
};
pub use proof::{ProofFileError, TlogProof};
pub use store::{Audit, Ledger, StoreError};
