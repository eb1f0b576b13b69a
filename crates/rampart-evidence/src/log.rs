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
    /// Appends each file's bytes (`-`: stdin) as one entry: in one
    /// transaction, or with `one_by_one` one per file. `durable` hears of
    /// each index once its transaction has committed.
    pub fn append(
        &self,
        files: &[std::path::PathBuf],
        one_by_one: bool,
        durable: &mut dyn FnMut(u64, &Path),
    ) -> Result<(), Error> {
        let entries = files
            .iter()
            .map(|f| read_entry(f))
            .collect::<Result<Vec<_>, _>>()?;
        let mut l = self.ledger()?;
        let batches: Vec<Vec<&[u8]>> = if one_by_one {
            entries.iter().map(|e| vec![e.as_slice()]).collect()
        } else {
            vec![entries.iter().map(Vec::as_slice).collect()]
        };
        let mut names = files.iter();
        for batch in batches {
            let indices = l.append(&batch).map_err(|source| Error::Ledger {
                dir: self.dir().to_path_buf(),
                source,
            })?;
            for (i, f) in indices.into_iter().zip(names.by_ref()) {
                durable(i, f);
            }
        }
        Ok(())
    }

    /// Recomputes the tree from every entry and checks every checkpoint,
    /// with the ledger's own verifier key and `vkeys` (name+id+key).
    /// A ledger so damaged that it does not open (a deleted entry) is
    /// an audit that names the damage, not an error.
    pub fn audit(&self, vkeys: &[String]) -> Result<rampart_ledger::Audit, Error> {
        let l = match self.ledger() {
            Err(Error::Open {
                source: rampart_ledger::StoreError::Tampered(why),
                ..
            }) => {
                return Ok(rampart_ledger::Audit {
                    problems: vec![why],
                    ..Default::default()
                })
            }
            other => other?,
        };
        let mut verifiers = vec![self.checkpoint_key()?.verifier()];
        for v in vkeys {
            verifiers.push(
                NoteVerifier::parse(v).map_err(|e| Error::Refused(format!("--vkey {v}: {e}")))?,
            );
        }
        let mut audit = l.verify(&verifiers).map_err(|source| Error::Ledger {
            dir: self.dir().to_path_buf(),
            source,
        })?;
        // A Rampart attestation that the project's key did not sign is
        // evidence of nothing (admission ignores it; the gateway refuses
        // a key event among them), so the audit names it too, once the
        // entries themselves are intact (an edited one cannot be read).
        if !audit.problems.is_empty() {
            return Ok(audit);
        }
        let (attestations, _) = self.attestations_in(&l, 0, crate::PREDICATE_PREFIX)?;
        for a in attestations.iter().filter(|a| !a.signature_ok) {
            audit.problems.push(format!(
                "entry {}: a {} attestation whose signature does not verify with the project's key {} (forged, or signed by another project)",
                a.index,
                a.statement.predicate_type,
                self.attest_pub_path().display()
            ));
        }
        Ok(audit)
    }

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

    /// Checks a tlog-proof file against an entry's bytes (a file), without
    /// the database: the checkpoint's signature, then the inclusion.
    /// `Ok(Err(why))` when the proof does not hold.
    pub fn verify_proof(
        &self,
        proof: &Path,
        entry: &Path,
        vkeys: &[String],
    ) -> Result<Result<(TlogProof, Checkpoint), String>, Error> {
        let text = read_text(proof, "the proof")?;
        let entry = std::fs::read(entry).map_err(|source| Error::Read {
            what: "the entry",
            path: entry.to_path_buf(),
            source,
        })?;
        let p = TlogProof::parse(&text)
            .map_err(|e| Error::Refused(format!("{}: {e}", proof.display())))?;
        let verifiers = self.verifiers(vkeys)?;
        Ok(match p.verify(&entry, &verifiers) {
            Ok(cp) => Ok((p, cp)),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Whether checkpoint `new` extends checkpoint `old` (files of signed
    /// notes, checked with the ledger's verifier key), with the proof.
    pub fn consistency(&self, old: &Path, new: &Path) -> Result<Consistency, Error> {
        let verifiers = self.verifiers(&[])?;
        let read = |path: &Path, which: &str| {
            Checkpoint::verify(&read_text(path, "the checkpoint")?, &verifiers)
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

fn read_text(path: &Path, what: &'static str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}
