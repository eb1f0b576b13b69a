//! Keys: ECDSA P-256 and P-384 (DER signatures over SHA-256 and SHA-384,
//! as Sigstore and model-signing use them) and Ed25519, read and written
//! as PEM (PKCS#8 private keys, SEC1 `EC PRIVATE KEY` read too; SPKI
//! public keys).

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use p256::pkcs8::LineEnding;
use rand_core::OsRng;
use sha2::{Digest, Sha256};

use crate::Error;

/// The algorithms a key can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum KeyKind {
    /// ECDSA on NIST P-256 with SHA-256 (model-signing's default curve).
    P256,
    /// ECDSA on NIST P-384 with SHA-384.
    P384,
    /// Ed25519 (not read by model-signing's key method).
    Ed25519,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyKind::P256 => "ECDSA P-256",
            KeyKind::P384 => "ECDSA P-384",
            KeyKind::Ed25519 => "Ed25519",
        })
    }
}

/// A private key.
#[derive(Clone)]
pub enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A public key.
#[derive(Debug, Clone, PartialEq)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kind())
    }
}

fn key_err(e: impl std::fmt::Display) -> Error {
    Error::Key(e.to_string())
}

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate(kind: KeyKind) -> Self {
        match kind {
            KeyKind::P256 => SigningKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            KeyKind::P384 => SigningKey::P384(p384::ecdsa::SigningKey::random(&mut OsRng)),
            KeyKind::Ed25519 => {
                SigningKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
            }
        }
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            SigningKey::P256(_) => KeyKind::P256,
            SigningKey::P384(_) => KeyKind::P384,
            SigningKey::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`) of any supported
    /// algorithm, or SEC1 (`EC PRIVATE KEY`, as `openssl ecparam` writes).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if pem.contains("ENCRYPTED PRIVATE KEY") {
            return Err(Error::Key(
                "the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)"
                    .into(),
            ));
        }
        if pem.contains("BEGIN EC PRIVATE KEY") {
            if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
                return Ok(SigningKey::P256(k.into()));
            }
            return p384::SecretKey::from_sec1_pem(pem)
                .map(|k| SigningKey::P384(k.into()))
                .map_err(|_| {
                    Error::Key("an EC private key on a curve other than P-256 or P-384".into())
                });
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::P384(k));
        }
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(SigningKey::Ed25519)
            .map_err(|_| {
                Error::Key(
                    "expected a PEM private key (PKCS#8 or SEC1) for ECDSA P-256, P-384 or Ed25519"
                        .into(),
                )
            })
    }

    /// PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<String, Error> {
        let doc = match self {
            SigningKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
            // PKCS#8 v1 (no public key inside), which every reader takes:
            // Python's cryptography refuses the v2 form.
            SigningKey::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(key_err)?;
        Ok(doc.to_string())
    }

    pub fn public(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// Signs `message`: DER ECDSA, or a raw 64-byte Ed25519 signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        match self {
            SigningKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

impl PublicKey {
    /// Reads an SPKI PEM public key (`PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k));
        }
        ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
            .map(PublicKey::Ed25519)
            .map_err(|_| {
                let hint = if pem.contains("PRIVATE KEY") {
                    "; this is a private key, give the public one"
                } else {
                    ""
                };
                Error::Key(format!(
                    "expected a PEM public key (SPKI) for ECDSA P-256, P-384 or Ed25519{hint}"
                ))
            })
    }

    /// Reads a DER SubjectPublicKeyInfo (from a certificate).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        ed25519_dalek::VerifyingKey::from_public_key_der(der)
            .map(PublicKey::Ed25519)
            .map_err(|_| {
                Error::Key("a certificate key that is not ECDSA P-256, P-384 or Ed25519".into())
            })
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::P256(_) => KeyKind::P256,
            PublicKey::P384(_) => KeyKind::P384,
            PublicKey::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// SPKI PEM with LF line endings.
    pub fn to_pem(&self) -> Result<String, Error> {
        match self {
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
        }
        .map_err(key_err)
    }

    /// The key identifier model-signing records in bundles: SHA-256 (hex)
    /// of the SPKI PEM text.
    pub fn hint(&self) -> Result<String, Error> {
        Ok(hex::encode(Sha256::digest(self.to_pem()?.as_bytes())))
    }

    /// Verifies `sig` over `message`.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), Error> {
        use p256::ecdsa::signature::Verifier;
        let bad = |e: &dyn std::fmt::Display| Error::BadSignature(e.to_string());
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig).map_err(|e| bad(&e))?;
                k.verify(message, &s).map_err(|e| bad(&e))
            }
            PublicKey::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig).map_err(|e| bad(&e))?;
                k.verify(message, &s).map_err(|e| bad(&e))
            }
            PublicKey::Ed25519(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig).map_err(|e| bad(&e))?;
                k.verify(message, &s).map_err(|e| bad(&e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_for_every_kind() {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
            let k = SigningKey::generate(kind);
            let back = SigningKey::from_pem(&k.to_pem().unwrap()).unwrap();
            assert_eq!(back.kind(), kind);
            let public = PublicKey::from_pem(&k.public().to_pem().unwrap()).unwrap();
            assert_eq!(public, k.public());
            let sig = back.sign(b"m");
            assert!(public.verify(b"m", &sig).is_ok());
            assert!(public.verify(b"n", &sig).is_err());
            assert_eq!(public.hint().unwrap().len(), 64);
        }
    }

    #[test]
    fn wrong_material_is_named() {
        let k = SigningKey::generate(KeyKind::P256);
        let err = PublicKey::from_pem(&k.to_pem().unwrap()).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
        assert!(
            SigningKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----")
                .unwrap_err()
                .to_string()
                .contains("encrypted")
        );
        assert!(SigningKey::from_pem("garbage").is_err());
    }
}
