//! Signed evidence, one implementation for every gate: DSSE envelopes
//! (with the pre-authentication encoding, PAE), in-toto Statement v1, and
//! the Sigstore bundle v0.3 that carries them, signed with ECDSA P-256,
//! ECDSA P-384 or Ed25519 keys stored as PEM.
//!
//! The formats follow the DSSE protocol (github.com/secure-systems-lab/
//! dsse, `protocol.md`), the in-toto Statement v1 specification and the
//! Sigstore bundle as the OpenSSF model-signing package writes it (key
//! method): `verificationMaterial.publicKey.hint` is the SHA-256 of the
//! public key's SPKI PEM text, `tlogEntries` is empty, and ECDSA
//! signatures are DER, over SHA-256 for P-256 and SHA-384 for P-384.

mod bundle;
mod dsse;
mod keys;
mod statement;
mod x509;

pub use bundle::{Bundle, BUNDLE_MEDIA_TYPE};
pub use dsse::{pae, Envelope, Signature};
pub use keys::{KeyKind, PublicKey, SigningKey};
pub use statement::{ResourceDescriptor, Statement, STATEMENT_TYPE};
pub use x509::{certificates_from_pem, certified_key, verify_chain};

/// Payload type of an in-toto statement in a DSSE envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why evidence could not be produced or verified. Messages say what is
/// wrong in the user's words; callers add the file name.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("not a key this tool reads: {0}")]
    Key(String),
    #[error("not a Sigstore bundle: {0}")]
    Bundle(String),
    #[error("the signature does not match: {0}")]
    BadSignature(String),
    #[error("wrong key: {0}")]
    WrongKey(String),
    #[error("unexpected payload type {found:?} (expected {expected:?})")]
    PayloadType { found: String, expected: String },
    #[error("the signed statement is not valid: {0}")]
    Statement(String),
    #[error("certificate: {0}")]
    Certificate(String),
}
