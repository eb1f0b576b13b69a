//! DSSE: the envelope and its pre-authentication encoding.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, SigningKey};
use crate::Error;

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// lengths in ASCII decimal: what is signed, so that the payload type is
/// authenticated with the payload.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope; `payload` and `sig` are base64 in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(with = "b64")]
    pub sig: Vec<u8>,
    #[serde(default)]
    pub keyid: String,
}

impl Envelope {
    /// Signs `payload` of `payload_type` with `key`.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Envelope {
        let sig = key.sign(&pae(payload_type, &payload));
        Envelope {
            payload,
            payload_type: payload_type.to_string(),
            signatures: vec![Signature {
                sig,
                keyid: String::new(),
            }],
        }
    }

    /// Checks that one of the signatures is `key`'s over this payload and
    /// that the payload type is `expected_type`; returns the payload.
    pub fn verify(&self, key: &PublicKey, expected_type: &str) -> Result<&[u8], Error> {
        if self.signatures.is_empty() {
            return Err(Error::BadSignature("the envelope has no signature".into()));
        }
        let message = pae(&self.payload_type, &self.payload);
        let ok = self
            .signatures
            .iter()
            .any(|s| key.verify(&message, &s.sig).is_ok());
        if !ok {
            return Err(Error::BadSignature(format!(
                "no signature in the envelope verifies with the {} key",
                key.kind()
            )));
        }
        // Checked after the signature: a type change is then reported as
        // what it is only when the signer really signed that type.
        if self.payload_type != expected_type {
            return Err(Error::PayloadType {
                found: self.payload_type.clone(),
                expected: expected_type.to_string(),
            });
        }
        Ok(&self.payload)
    }
}

mod b64 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.trim())
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyKind;

    /// The test vector of the DSSE protocol (protocol.md).
    #[test]
    fn pae_matches_the_spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn envelopes_round_trip_and_detect_tampering() {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
            let key = SigningKey::generate(kind);
            let env = Envelope::sign("t/x", b"{\"a\":1}".to_vec(), &key);
            let json = serde_json::to_string(&env).unwrap();
            let back: Envelope = serde_json::from_str(&json).unwrap();
            assert_eq!(back.verify(&key.public(), "t/x").unwrap(), b"{\"a\":1}");
            let mut edited = back.clone();
            edited.payload.push(b' ');
            assert!(matches!(
                edited.verify(&key.public(), "t/x"),
                Err(Error::BadSignature(_))
            ));
            let mut retyped = back.clone();
            retyped.payload_type = "t/y".into();
            assert!(retyped.verify(&key.public(), "t/y").is_err());
            let other = SigningKey::generate(kind);
            assert!(back.verify(&other.public(), "t/x").is_err());
        }
    }
}
