//! The ledger's own operations on a project: appending bounded entries,
//! checking offline proofs and the consistency of two checkpoints.

use crate::{Error, Project};
use rampart_ledger::checkpoint::{Checkpoint, NoteVerifier};
use rampart_ledger::{Hash, TlogProof};
use std::io::Read;
use std::path::Path;

/// Largest entry appended: an entry is evidence (an attestation is
/// kilobytes), not the artifact.
pub const MAX_ENTRY: u64 = 16 << 20;

/// The bytes of one entry to append: a file, or stdin for `-`; more than
/// [`MAX_ENTRY`] is refused.
pub fn read_entry(path: &Path) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(MAX_ENTRY + 1).read_to_end(&mut data)
    } else {
        std::fs::File::open(path).and_then(|h| h.take(MAX_ENTRY + 1).read_to_end(&mut data))
    };
    read.map_err(|source| Error::Read {
        what: "the entry",
        path: path.to_path_buf(),
        source,
    })?;
    if data.len() as u64 > MAX_ENTRY {
        return Err(Error::Refused(format!(
            "{}: over {MAX_ENTRY} bytes; a ledger entry is evidence, not the artifact (append its digest or attestation)",
            path.display()
        )));
    }
    Ok(data)
}

/// Two checkpoints and whether the newer extends the older.
pub struct Consistency {
    pub old: Checkpoint,
    pub new: Checkpoint,
    /// The proof's hashes.
    pub proof: Vec<Hash>,
    /// Why it does not extend it, if it does not.
    pub broken: Option<String>,
}

impl Project {
    /// The checkpoint verifier keys to trust: `vkeys` (name+id+key) when
    /// given, else the ledger's own.
    pub fn verifiers(&self, vkeys: &[String]) -> Result<Vec<NoteVerifier>, Error> {
        let parse = |text: &str, from: &str| {
            NoteVerifier::parse(text).map_err(|e| Error::Refused(format!("{from}: {e}")))
        };
        let mut out = Vec::new();
        for v in vkeys {
            out.push(parse(v, &format!("--vkey {v}"))?);
        }
        if out.is_empty() {
            let p = self.verifier_key_path();
            let text = std::fs::read_to_string(&p).map_err(|source| Error::Read {
                what: "the verifier key (no --vkey given)",
                path: p.clone(),
                source,
            })?;
            out.push(parse(&text, &p.display().to_string())?);
        }
        Ok(out)
    }

    /// Checks a tlog-proof (its text) against an entry's bytes, without
    /// the database: the checkpoint's signature, then the inclusion.
    /// `Ok(Err(why))` when the proof does not hold.
    pub fn verify_proof(
        &self,
        proof: &str,
        entry: &[u8],
        vkeys: &[String],
    ) -> Result<Result<(TlogProof, Checkpoint), String>, Error> {
        let p = TlogProof::parse(proof).map_err(|e| Error::Refused(e.to_string()))?;
        let verifiers = self.verifiers(vkeys)?;
        Ok(match p.verify(entry, &verifiers) {
            Ok(cp) => Ok((p, cp)),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Whether checkpoint `new` extends checkpoint `old` (both signed
    /// notes, checked with the ledger's verifier key), with the proof.
    pub fn consistency(&self, old: &str, new: &str) -> Result<Consistency, Error> {
        let verifiers = self.verifiers(&[])?;
        let read = |text: &str, which: &str| {
            Checkpoint::verify(text, &verifiers)
                .map(|(cp, _)| cp)
                .map_err(|e| Error::Refused(format!("the {which} checkpoint: {e}")))
        };
        let (old, new) = (read(old, "old")?, read(new, "new")?);
        let l = self.ledger()?;
        let proof = l
            .tree()
            .consistency_proof(old.size, new.size)
            .map_err(|e| Error::Refused(e.to_string()))?;
        let broken =
            rampart_ledger::verify_consistency(old.size, new.size, &proof, &old.root, &new.root)
                .err()
                .map(|e| e.to_string());
        Ok(Consistency {
            old,
            new,
            proof,
            broken,
        })
    }
}
