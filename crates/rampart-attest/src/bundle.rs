//! The Sigstore bundle (v0.3) as written for key-based signatures: the
//! DSSE envelope plus a hint naming the public key.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::keys::{PublicKey, SigningKey};
use crate::Error;

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Largest bundle read (a manifest of a million files is ~150 MB).
pub const MAX_BUNDLE: usize = 512 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyHint>,
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    /// Certificate material (the certificate method), kept as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKeyHint {
    #[serde(default)]
    pub hint: String,
}

impl Bundle {
    /// Signs `payload` (of `payload_type`) and wraps it with the key's hint.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Result<Bundle, Error> {
        Ok(Bundle {
            media_type: BUNDLE_MEDIA_TYPE.to_string(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyHint {
                    hint: key.public().hint()?,
                }),
                tlog_entries: Vec::new(),
                certificate: None,
                x509_certificate_chain: None,
            },
            dsse_envelope: Envelope::sign(payload_type, payload, key),
        })
    }

    /// Signs with a key whose certificate (`chain[0]`, DER) and chain are
    /// carried in the bundle (model-signing's certificate method).
    pub fn sign_with_certificate(
        payload_type: &str,
        payload: Vec<u8>,
        key: &SigningKey,
        chain: &[Vec<u8>],
    ) -> Result<Bundle, Error> {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::Certificate("no signing certificate".into()))?;
        crate::x509::check_signing_der(leaf)?;
        if crate::x509::certified_key(leaf)? != key.public() {
            return Err(Error::Certificate(
                "the signing certificate does not certify this private key".into(),
            ));
        }
        let mut b = Bundle {
            media_type: BUNDLE_MEDIA_TYPE.to_string(),
            verification_material: VerificationMaterial {
                public_key: None,
                tlog_entries: Vec::new(),
                certificate: None,
                x509_certificate_chain: None,
            },
            dsse_envelope: Envelope::sign(payload_type, payload, key),
        };
        b.set_certificates(chain);
        Ok(b)
    }

    /// The DER certificates the bundle carries (signing certificate first).
    pub fn certificates(&self) -> Result<Vec<Vec<u8>>, Error> {
        use base64::Engine;
        let vm = &self.verification_material;
        let list: Vec<&serde_json::Value> = match (&vm.x509_certificate_chain, &vm.certificate) {
            (Some(c), _) => c
                .get("certificates")
                .and_then(|l| l.as_array())
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            (None, Some(one)) => vec![one],
            (None, None) => Vec::new(),
        };
        if list.is_empty() {
            return Err(Error::Certificate(
                "the bundle carries no certificate (signed with a key: use --key)".into(),
            ));
        }
        list.iter()
            .map(|c| {
                let raw = c
                    .get("rawBytes")
                    .and_then(|r| r.as_str())
                    .ok_or_else(|| Error::Bundle("certificate without rawBytes".into()))?;
                base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|e| Error::Bundle(format!("certificate rawBytes: {e}")))
            })
            .collect()
    }

    /// Replaces the certificates the bundle carries (signing certificate
    /// first, DER): a verifier's own copy of the chain.
    pub fn set_certificates(&mut self, chain: &[Vec<u8>]) {
        use base64::Engine;
        let certs: Vec<serde_json::Value> = chain
            .iter()
            .map(|d| serde_json::json!({"rawBytes": base64::engine::general_purpose::STANDARD.encode(d)}))
            .collect();
        self.verification_material.certificate = None;
        self.verification_material.x509_certificate_chain =
            Some(serde_json::json!({ "certificates": certs }));
    }

    /// Verifies the certificate chain to one of `roots` (DER), then the
    /// envelope with the signing certificate's key.
    pub fn verify_with_roots(&self, roots: &[Vec<u8>], payload_type: &str) -> Result<&[u8], Error> {
        let key = crate::x509::verify_chain(&self.certificates()?, roots)?;
        self.dsse_envelope.verify(&key, payload_type)
    }

    /// Parses a bundle, refusing other media types.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, Error> {
        if bytes.len() > MAX_BUNDLE {
            return Err(Error::Bundle(format!("over {MAX_BUNDLE} bytes")));
        }
        let b: Bundle = serde_json::from_slice(bytes).map_err(|e| Error::Bundle(e.to_string()))?;
        if b.media_type != BUNDLE_MEDIA_TYPE {
            return Err(Error::Bundle(format!(
                "media type {:?} (this tool reads {BUNDLE_MEDIA_TYPE})",
                b.media_type
            )));
        }
        Ok(b)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Verifies the envelope with `key` (after checking the key hint, when
    /// the bundle has one) and returns the payload.
    pub fn verify(&self, key: &PublicKey, payload_type: &str) -> Result<&[u8], Error> {
        if let Some(h) = self
            .verification_material
            .public_key
            .as_ref()
            .filter(|h| !h.hint.is_empty())
        {
            let mine = key.hint()?;
            if h.hint != mine {
                return Err(Error::WrongKey(format!(
                    "the bundle was signed by the key with hint {}, this key's hint is {mine}",
                    h.hint
                )));
            }
        }
        self.dsse_envelope.verify(key, payload_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyKind;

    #[test]
    fn bundles_round_trip_and_name_problems() {
        let key = SigningKey::generate(KeyKind::P256);
        let b = Bundle::sign(crate::IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &key).unwrap();
        let json = b.to_json();
        let back = Bundle::from_json(&json).unwrap();
        assert_eq!(
            back.verify(&key.public(), crate::IN_TOTO_PAYLOAD_TYPE)
                .unwrap(),
            b"{}"
        );
        let other = SigningKey::generate(KeyKind::P256);
        assert!(matches!(
            back.verify(&other.public(), crate::IN_TOTO_PAYLOAD_TYPE),
            Err(Error::WrongKey(_))
        ));
        let text = String::from_utf8(json).unwrap();
        let retyped = text.replace("bundle.v0.3", "bundle.v9");
        assert!(Bundle::from_json(retyped.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("media type"));
        assert!(Bundle::from_json(&text.as_bytes()[..text.len() / 2]).is_err());
        assert!(Bundle::from_json(b"not json").is_err());
    }
}
