//! Every attestation the ledger holds about one artifact.

use crate::{Error, Project};
use rampart_attest::{Envelope, Statement, IN_TOTO_PAYLOAD_TYPE};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One attestation found about an artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Attestation {
    /// Its index in the ledger.
    pub index: u64,
    /// The gate as attested (`scan`, `pii-scan`...).
    pub gate: String,
    /// Whether the run passed by its own lights (None: not recorded).
    pub passed: Option<bool>,
    #[serde(skip)]
    pub predicate: Value,
    /// The signature verifies with the project's attestation key.
    #[serde(rename = "signature_verified")]
    pub signature_ok: bool,
    /// Covered by the last checkpoint, whose root the entry still hashes
    /// to.
    #[serde(rename = "in_checkpoint")]
    pub included: bool,
    /// When the run finished (Unix seconds).
    pub time: String,
}

/// What the ledger says about an artifact.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub artifact: PathBuf,
    /// The digest that names it ([`rampart_sign::artifact_digest`]).
    pub digest: String,
    /// In ledger order, oldest first.
    pub attestations: Vec<Attestation>,
}

impl Evidence {
    /// The newest attestation of `gate` (as attested).
    pub fn latest(&self, gate: &str) -> Option<&Attestation> {
        self.attestations.iter().rev().find(|a| a.gate == gate)
    }

    /// Every attestation, a line each, for people.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{} (sha256 {}): {} attestations\n",
            self.artifact.display(),
            self.digest,
            self.attestations.len()
        );
        for f in &self.attestations {
            let verdict = match f.passed {
                Some(true) => "passed",
                Some(false) => "FAILED",
                None => "-",
            };
            out.push_str(&format!(
                "  entry {:>6}  {:<8} {:<7} signature {}  {}\n",
                f.index,
                f.gate,
                verdict,
                if f.signature_ok { "ok" } else { "BAD" },
                if f.included {
                    "in the last checkpoint"
                } else {
                    "not in a checkpoint yet"
                }
            ));
        }
        out
    }

    /// Whether every attestation's signature verifies.
    pub fn all_signed(&self) -> bool {
        self.attestations.iter().all(|a| a.signature_ok)
    }
}

impl Project {
    /// Every attestation in the ledger about `artifact`'s digest, each
    /// with its signature and checkpoint inclusion checked. Entries that
    /// are not attestations (bytes appended with `ledger append`) are not
    /// about any artifact and are passed over.
    pub fn evidence(&self, artifact: &Path) -> Result<Evidence, Error> {
        let digest = rampart_sign::artifact_digest(artifact).map_err(|source| Error::Digest {
            path: artifact.to_path_buf(),
            source,
        })?;
        self.evidence_of(artifact, digest)
    }

    /// Every attestation about `digest` (an artifact named `artifact` in
    /// reports), without reading the artifact: a registry version's bytes
    /// were hashed when it was registered.
    pub fn evidence_of(&self, artifact: &Path, digest: String) -> Result<Evidence, Error> {
        let l = self.ledger()?;
        let key = self.public_key()?;
        let ledger_error = |source| Error::Ledger {
            dir: self.dir().to_path_buf(),
            source,
        };
        let checkpoint = l.last_checkpoint().map_err(ledger_error)?;
        let mut found = Vec::new();
        for index in 0..l.size() {
            let Some(entry) = l.entry(index).map_err(ledger_error)? else {
                continue;
            };
            let Some(st) = statement(&entry) else {
                continue;
            };
            if !st
                .subject
                .iter()
                .any(|s| s.digest.get("sha256") == Some(&digest))
            {
                continue;
            }
            let signature_ok = serde_json::from_slice::<Envelope>(&entry)
                .is_ok_and(|env| env.verify(&key, IN_TOTO_PAYLOAD_TYPE).is_ok());
            let included = checkpoint.as_ref().is_some_and(|(size, root, _)| {
                index < *size
                    && l.tree()
                        .inclusion_proof(index, *size)
                        .ok()
                        .is_some_and(|p| {
                            rampart_ledger::verify_inclusion(
                                &rampart_ledger::leaf_hash(&entry),
                                index,
                                *size,
                                &p,
                                root,
                            )
                            .is_ok()
                        })
            });
            let text = |k: &str| {
                st.predicate
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            found.push(Attestation {
                index,
                gate: text("gate").unwrap_or_else(|| "?".into()),
                passed: st.predicate.get("passed").and_then(Value::as_bool),
                time: text("finished").unwrap_or_default(),
                predicate: st.predicate,
                signature_ok,
                included,
            });
        }
        Ok(Evidence {
            artifact: artifact.to_path_buf(),
            digest,
            attestations: found,
        })
    }
}

/// A signed attestation read back from the ledger.
#[derive(Debug, Clone)]
pub struct Signed {
    pub index: u64,
    pub statement: Statement,
    /// The envelope's signature verifies with the project's key.
    pub signature_ok: bool,
}

impl Project {
    /// The attestations from ledger entry `start` on whose predicate type
    /// starts with `prefix`, each with its signature checked, and the
    /// ledger's size (where the next read starts).
    pub fn attestations_from(&self, start: u64, prefix: &str) -> Result<(Vec<Signed>, u64), Error> {
        self.attestations_in(&self.ledger()?, start, prefix)
    }

    /// As [`Project::attestations_from`], in `l`, an open ledger of this
    /// project.
    pub fn attestations_in(
        &self,
        l: &rampart_ledger::Ledger,
        start: u64,
        prefix: &str,
    ) -> Result<(Vec<Signed>, u64), Error> {
        let key = self.public_key()?;
        let ledger_error = |source| Error::Ledger {
            dir: self.dir().to_path_buf(),
            source,
        };
        let size = l.size();
        let mut out = Vec::new();
        for index in start..size {
            let Some(entry) = l.entry(index).map_err(ledger_error)? else {
                continue;
            };
            let Ok(env) = serde_json::from_slice::<Envelope>(&entry) else {
                continue;
            };
            let Ok(statement) = Statement::from_payload(&env.payload, None) else {
                continue;
            };
            if statement.predicate_type.starts_with(prefix) {
                let signature_ok = env.verify(&key, IN_TOTO_PAYLOAD_TYPE).is_ok();
                out.push(Signed {
                    index,
                    statement,
                    signature_ok,
                });
            }
        }
        Ok((out, size))
    }
}

/// The statement in a ledger entry, when the entry is an attestation.
fn statement(entry: &[u8]) -> Option<Statement> {
    let env = serde_json::from_slice::<Envelope>(entry).ok()?;
    Statement::from_payload(&env.payload, None).ok()
}
