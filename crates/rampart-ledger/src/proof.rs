//! Offline inclusion proofs in the C2SP `tlog-proof` format:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <decimal>
//! <base64 hash, from the leaf's sibling up>
//! ...
//!
//! <signed checkpoint, verbatim>
//! ```
//!
//! Shipped beside an artifact, a proof shows that an entry is in the log
//! as of a signed checkpoint, to anyone holding the log's verifier key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::checkpoint::{Checkpoint, NoteError, NoteVerifier};
use crate::merkle::{leaf_hash, verify_inclusion, Hash};

const HEADER: &str = "c2sp.org/tlog-proof@v1";
const MAX_PROOF: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub path: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofFileError {
    #[error("not a tlog-proof: {0}")]
    Format(String),
    #[error("{0}")]
    Checkpoint(#[from] NoteError),
    #[error("the entry is not in the log at index {index} of the checkpoint ({why})")]
    NotIncluded { index: u64, why: String },
}

impl TlogProof {
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(e) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(e)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            s.push_str(&STANDARD.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<TlogProof, ProofFileError> {
        let bad = |w: &str| ProofFileError::Format(w.to_string());
        if text.len() > MAX_PROOF {
            return Err(bad("over 1 MiB"));
        }
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or_else(|| bad("no index line"))?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            extra = Some(
                STANDARD
                    .decode(e)
                    .map_err(|_| bad("extra data is not base64"))?,
            );
            line = lines.next().ok_or_else(|| bad("no index line"))?;
        }
        let index_text = line
            .strip_prefix("index ")
            .ok_or_else(|| bad("no index line"))?;
        if index_text.is_empty()
            || (index_text.len() > 1 && index_text.starts_with('0'))
            || !index_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("the index is not a decimal without leading zeros"));
        }
        let index = index_text.parse().map_err(|_| bad("index out of range"))?;
        let path = lines
            .map(|l| {
                STANDARD
                    .decode(l)
                    .ok()
                    .and_then(|h| h.try_into().ok())
                    .ok_or_else(|| bad("a proof line is not a base64 SHA-256 hash"))
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        if path.len() > 64 {
            return Err(bad("more than 64 proof hashes"));
        }
        Ok(TlogProof {
            extra,
            index,
            path,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Verifies the checkpoint's signature with `verifiers`, then that
    /// `entry` is at `index` in the checkpointed tree.
    pub fn verify(
        &self,
        entry: &[u8],
        verifiers: &[NoteVerifier],
    ) -> Result<Checkpoint, ProofFileError> {
        let (cp, _) = Checkpoint::verify(&self.checkpoint, verifiers)?;
        verify_inclusion(&leaf_hash(entry), self.index, cp.size, &self.path, &cp.root).map_err(
            |e| ProofFileError::NotIncluded {
                index: self.index,
                why: e.to_string(),
            },
        )?;
        Ok(cp)
    }
}
