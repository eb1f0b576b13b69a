//! Checkpoints in the C2SP `tlog-checkpoint` format, signed as C2SP
//! `signed-note`s with Ed25519.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [extension lines]
//!
//! — <key name> <base64(4-byte key ID ‖ 64-byte signature)>
//! ```
//!
//! The signature covers the text up to and including its last newline.
//! A key's ID is the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖
//! public key); verifier keys are written `name+<8 hex>+<base64(0x01 ‖
//! public key)>`. Signatures by unknown keys are ignored, so that keys can
//! rotate and witnesses can cosign.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, Verifier};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// Signature algorithm byte of Ed25519 in signed-note.
const ED25519: u8 = 0x01;
/// Longest note read.
const MAX_NOTE: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("not a checkpoint: {0}")]
    Format(String),
    #[error("not a note key: {0}")]
    Key(String),
    #[error("no signature by a trusted key verifies")]
    Unverified,
}

/// A checkpoint: which log, how many entries, and the root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    let d: [u8; 32] = h.finalize().into();
    let [a, b, c, e, ..] = d;
    [a, b, c, e]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// A signing key for notes.
pub struct NoteKey {
    name: String,
    key: ed25519_dalek::SigningKey,
}

/// A key that verifies notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: ed25519_dalek::VerifyingKey,
}

impl NoteKey {
    pub fn new(name: &str, key: ed25519_dalek::SigningKey) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key(format!("invalid key name {name:?}")));
        }
        Ok(NoteKey {
            name: name.to_string(),
            key,
        })
    }

    pub fn verifier(&self) -> NoteVerifier {
        let public = self.key.verifying_key();
        NoteVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, public.as_bytes()),
            key: public,
        }
    }

    /// `PRIVATE+KEY+name+<id>+<base64(0x01 ‖ seed)>`.
    pub fn to_string_secret(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        let id = self.verifier().id;
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex8(&id),
            STANDARD.encode(raw)
        )
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("expected PRIVATE+KEY+name+id+key".into()))?;
        let (name, raw) = parse_key_fields(rest)?;
        let seed: [u8; 32] = raw
            .try_into()
            .map_err(|_| NoteError::Key("the Ed25519 seed is not 32 bytes".into()))?;
        let key = NoteKey::new(&name, ed25519_dalek::SigningKey::from_bytes(&seed))?;
        Ok(key)
    }

    /// Signs `body` (a note text ending in a newline): the signature line.
    fn sign_line(&self, body: &str) -> String {
        let sig = self.key.sign(body.as_bytes());
        let mut raw = self.verifier().id.to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(raw))
    }
}

fn hex8(id: &[u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// `name+<id>+<base64>` -> (name, decoded key bytes after the algorithm
/// byte), checking the ID against the key.
fn parse_key_fields(text: &str) -> Result<(String, Vec<u8>), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Key("expected name+id+key".into()));
    };
    if !valid_name(name) || id.len() != 8 {
        return Err(NoteError::Key("invalid name or key ID".into()));
    }
    let raw = STANDARD
        .decode(b64)
        .map_err(|e| NoteError::Key(format!("key is not base64: {e}")))?;
    match raw.split_first() {
        Some((&ED25519, rest)) => Ok((name.to_string(), rest.to_vec())),
        _ => Err(NoteError::Key(
            "only Ed25519 keys (algorithm 1) are supported".into(),
        )),
    }
}

impl NoteVerifier {
    /// `name+<id>+<base64(0x01 ‖ public key)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, raw) = parse_key_fields(text.trim())?;
        let public: [u8; 32] = raw
            .try_into()
            .map_err(|_| NoteError::Key("the Ed25519 key is not 32 bytes".into()))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
            .map_err(|e| NoteError::Key(e.to_string()))?;
        let id = key_id(&name, &public);
        let given = text.trim().split('+').nth(1).unwrap_or("");
        if given != hex8(&id) {
            return Err(NoteError::Key("the key ID does not match the key".into()));
        }
        Ok(NoteVerifier { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex8(&self.id),
            STANDARD.encode(raw)
        )
    }
}

impl Checkpoint {
    /// The note text (what is signed).
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// The signed note.
    pub fn sign(&self, key: &NoteKey) -> String {
        let body = self.body();
        let line = key.sign_line(&body);
        format!("{body}\n{line}")
    }

    /// Parses a note's text into a checkpoint.
    fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let bad = |w: &str| NoteError::Format(w.to_string());
        let mut lines = body
            .strip_suffix('\n')
            .ok_or_else(|| bad("the text does not end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("empty origin line"))?;
        let size_text = lines.next().ok_or_else(|| bad("no tree size line"))?;
        if size_text.is_empty()
            || (size_text.len() > 1 && size_text.starts_with('0'))
            || !size_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad(
                "the tree size is not a decimal number without leading zeros",
            ));
        }
        let size: u64 = size_text
            .parse()
            .map_err(|_| bad("tree size out of range"))?;
        let root_text = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root: Hash = STANDARD
            .decode(root_text)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Verifies a signed note with any of `verifiers` (signatures by
    /// other keys are ignored) and returns the checkpoint and the names of
    /// the keys whose signatures verified.
    pub fn verify(
        note: &str,
        verifiers: &[NoteVerifier],
    ) -> Result<(Checkpoint, Vec<String>), NoteError> {
        if note.len() > MAX_NOTE {
            return Err(NoteError::Format("note over 1 MiB".into()));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Format("no blank line before the signatures".into()))?;
        let (body, sigs) = note.split_at(split + 1);
        let sigs = sigs.strip_prefix('\n').unwrap_or(sigs);
        let cp = Checkpoint::parse_body(body)?;
        let mut good = Vec::new();
        for line in sigs.lines() {
            let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| {
                NoteError::Format("a signature line does not start with an em dash".into())
            })?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| NoteError::Format("malformed signature line".into()))?;
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| NoteError::Format("signature is not base64".into()))?;
            let (Some(id), Some(sig)) = (raw.get(..4), raw.get(4..)) else {
                return Err(NoteError::Format("signature too short".into()));
            };
            for v in verifiers.iter().filter(|v| v.name == name && v.id == id) {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                    continue;
                };
                if v.key.verify(body.as_bytes(), &sig).is_ok() && !good.contains(&v.name) {
                    good.push(v.name.clone());
                }
            }
        }
        if good.is_empty() {
            return Err(NoteError::Unverified);
        }
        Ok((cp, good))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn key(name: &str) -> NoteKey {
        NoteKey::new(name, ed25519_dalek::SigningKey::generate(&mut OsRng)).unwrap()
    }

    #[test]
    fn sign_verify_and_cosign() {
        let cp = Checkpoint {
            origin: "rampart.example/log".into(),
            size: 8,
            root: [7; 32],
            extensions: vec![],
        };
        let log = key("rampart.example/log");
        let witness = key("witness.example");
        let note = cp.sign(&log);
        assert!(note.starts_with("rampart.example/log\n8\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n\u{2014} rampart.example/log "));
        let (back, names) = Checkpoint::verify(&note, &[log.verifier()]).unwrap();
        assert_eq!(back, cp);
        assert_eq!(names, vec!["rampart.example/log"]);
        // A cosignature appended; an unknown signature is ignored.
        let cosigned = format!("{note}{}", witness.sign_line(&cp.body()));
        let (_, names) =
            Checkpoint::verify(&cosigned, &[log.verifier(), witness.verifier()]).unwrap();
        assert_eq!(names.len(), 2);
        assert!(Checkpoint::verify(&cosigned, &[log.verifier()]).is_ok());
        assert_eq!(
            Checkpoint::verify(&note, &[witness.verifier()]),
            Err(NoteError::Unverified)
        );
        // Any change to the text breaks the signature.
        let edited = note.replacen("\n8\n", "\n9\n", 1);
        assert_eq!(
            Checkpoint::verify(&edited, &[log.verifier()]),
            Err(NoteError::Unverified)
        );
    }

    #[test]
    fn keys_round_trip_in_text() {
        let k = key("log");
        let v = NoteVerifier::parse(&k.verifier().to_string()).unwrap();
        assert_eq!(v, k.verifier());
        let again = NoteKey::parse(&k.to_string_secret()).unwrap();
        assert_eq!(again.verifier(), k.verifier());
        let wrong_id = k.verifier().to_string().replacen('+', "+0", 1);
        assert!(NoteVerifier::parse(&wrong_id).is_err());
    }

    #[test]
    fn malformed_notes_are_refused() {
        let k = key("log");
        for bad in [
            "",
            "origin\n1\n",
            "o\n01\nAAAA\n\n\u{2014} log AAAA\n",
            "o\nx\nAAAA\n\n",
            "\n1\nAA==\n\n",
        ] {
            assert!(Checkpoint::verify(bad, &[k.verifier()]).is_err(), "{bad:?}");
        }
    }
}
