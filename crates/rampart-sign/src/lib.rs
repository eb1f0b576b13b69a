//! Manifests of model folders and datasets in the OpenSSF model-signing
//! v1.0 format, and their signatures.
//!
//! A manifest lists every file (method `files`) or every fixed-size shard
//! of every file (method `shards`) with its digest, in the order
//! model-signing sorts them (by path components, then offsets). The signed
//! statement's subject digest is SHA-256 over the concatenated raw
//! resource digests; its predicate records the serialization parameters,
//! so that a verifier re-hashes exactly as the signer did.

mod cache;
mod files;
mod hash;
mod manifest;
mod sign;

pub use cache::Cache;
pub use files::{
    artifact_digest, default_signature, pem_certificates, read_bundle, signature_inside,
    trust_from_files,
};
pub use hash::{digest, digest_cached, digest_with, snapshot, Options};
pub use manifest::{Diff, HashType, Manifest, Method, Resource, Serialization};
pub use sign::{sign, sign_with_certificate, verify, Trust, Verified, PREDICATE_TYPE};

use std::path::PathBuf;

/// Paths model-signing ignores by default (`--ignore-git-paths`).
pub const GIT_PATHS: &[&str] = &[".git", ".gitattributes", ".github", ".gitignore"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}: symbolic link refused (pass --allow-symlinks to follow links that stay inside the folder, or inside the Hugging Face cache repository of a snapshot)")]
    Symlink(PathBuf),
    #[error("{0}: symbolic link points outside the folder (and outside any Hugging Face cache repository it is in); refused: copy the file in")]
    Escapes(PathBuf),
    #[error("{0}: not a regular file (a link to a folder, a FIFO, a socket or a device); refused, so that nothing is left out of the signature silently")]
    NotAFile(PathBuf),
    #[error("{0}: the file changed while it was being hashed; sign again when it is stable")]
    Changed(PathBuf),
    #[error("{0}")]
    Attest(#[from] rampart_attest::Error),
    /// A key, certificate or signature file that does not parse.
    #[error("{path}: {error}")]
    File {
        path: PathBuf,
        error: rampart_attest::Error,
    },
    #[error("the signed manifest is not valid: {0}")]
    Manifest(String),
}
