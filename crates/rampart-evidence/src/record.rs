//! One gate run as a signed attestation in the ledger.

use crate::{Error, Project};
use rampart_attest::{Envelope, ResourceDescriptor, Statement, IN_TOTO_PAYLOAD_TYPE};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// SHA-256 (hex) of some bytes: the digest of a policy, a report, a key.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// What every Rampart predicate type starts with.
pub const PREDICATE_PREFIX: &str = "https://rampart.dev/attestation/";

/// The predicate type of a gate's attestations, versioned.
pub fn predicate_type(gate: &str) -> String {
    format!("{PREDICATE_PREFIX}{gate}/v1")
}

/// When a gate run started: taken before it reads anything, so that the
/// attestation's `started` and `finished` bound the run.
#[derive(Debug, Clone, Copy)]
pub struct Started(SystemTime);

impl Started {
    pub fn now() -> Self {
        Started(SystemTime::now())
    }
}

/// Seconds since the Unix epoch, as the predicates have always written
/// them (a string).
fn seconds(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// The fields every predicate carries, whichever gate and front end made
/// it. The inputs' digests are the statement's subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The gate as attested (`scan`, `verify`, `pii-scan`, `reid-risk`,
    /// `data-drift`...).
    pub gate: String,
    pub passed: bool,
    /// The Rampart version that ran the gate.
    pub tool_version: String,
    /// SHA-256 of the policy file that configured the run, or `default`
    /// when none did.
    pub policy_sha256: String,
    /// Unix seconds.
    pub started: String,
    pub finished: String,
}

/// A gate run to record.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub gate: &'a str,
    /// The artifacts the gate examined (and wrote), named by digest in
    /// the statement's subject.
    pub inputs: &'a [PathBuf],
    pub passed: bool,
    pub policy_sha256: &'a str,
    pub started: Started,
    /// The gate's own fields (a JSON object), beside the [`Header`]'s.
    pub details: serde_json::Value,
}

impl Project {
    /// Signs a statement about `o.inputs` and appends it to the ledger;
    /// returns the entry's index.
    pub fn record(&self, o: &Outcome) -> Result<u64, Error> {
        let subject: Vec<ResourceDescriptor> = o
            .inputs
            .iter()
            .map(|p| {
                let digest = rampart_sign::artifact_digest(p).map_err(|source| Error::Digest {
                    path: p.clone(),
                    source,
                })?;
                Ok(ResourceDescriptor {
                    name: p.display().to_string(),
                    digest: BTreeMap::from([("sha256".to_string(), digest)]),
                })
            })
            .collect::<Result<_, Error>>()?;
        self.record_about(o, subject)
    }

    /// As [`Project::record`], about artifacts already named by digest
    /// (`o.inputs` is not read): a registry event is about a model
    /// version, whose digest was taken when it was registered.
    pub fn record_about(
        &self,
        o: &Outcome,
        subject: Vec<ResourceDescriptor>,
    ) -> Result<u64, Error> {
        let entry = self.attestation(o, subject)?;
        let mut l = self.ledger()?;
        self.append_entry(&mut l, &entry)
    }

    /// Appends one entry to `l`, an open ledger of this project; returns
    /// its index.
    pub fn append_entry(&self, l: &mut rampart_ledger::Ledger, entry: &[u8]) -> Result<u64, Error> {
        let idx = l.append(&[entry]).map_err(|source| Error::Ledger {
            dir: self.dir().to_path_buf(),
            source,
        })?;
        idx.first().copied().ok_or_else(|| Error::NoIndex {
            dir: self.dir().to_path_buf(),
        })
    }

    /// The signed attestation of `o` about `subject`: the bytes of a
    /// ledger entry ([`Project::record_about`] appends them).
    pub fn attestation(
        &self,
        o: &Outcome,
        subject: Vec<ResourceDescriptor>,
    ) -> Result<Vec<u8>, Error> {
        let serde_json::Value::Object(mut predicate) = o.details.clone() else {
            return Err(Error::Predicate {
                gate: o.gate.into(),
            });
        };
        let key = self.signing_key()?;
        let header = Header {
            gate: o.gate.into(),
            passed: o.passed,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            policy_sha256: o.policy_sha256.into(),
            started: seconds(o.started.0),
            finished: seconds(SystemTime::now()),
        };
        if let Ok(serde_json::Value::Object(h)) = serde_json::to_value(&header) {
            predicate.extend(h);
        }
        let st = Statement::new(
            subject,
            &predicate_type(o.gate),
            serde_json::Value::Object(predicate),
        );
        let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_payload(), &key);
        // The key ID names the signing key (SHA-256 of its SPKI PEM, as
        // model-signing's hint), so that verifiers can pick among keys.
        let keyid = key.public().hint().map_err(|source| Error::Key {
            path: self.attest_key_path(),
            source,
        })?;
        for s in &mut env.signatures {
            s.keyid = keyid.clone();
        }
        serde_json::to_vec(&env).map_err(|e| Error::Write(e.into()))
    }
}
