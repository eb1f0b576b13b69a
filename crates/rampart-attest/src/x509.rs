//! The certificate method: a signing certificate and its chain in the
//! bundle, verified to a root the verifier trusts.
//!
//! As model-signing does (with OpenSSL), the chain is checked at the
//! signing certificate's notBefore time (short-lived signing certificates
//! expire long before a model stops being used). Every link's signature
//! is verified (ECDSA P-256/P-384 with SHA-256/384, Ed25519); issuers must
//! be CA certificates; the signing certificate must allow digital
//! signatures and carry the code-signing extended key usage.

use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use crate::keys::PublicKey;
use crate::Error;

const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const ED25519: &str = "1.3.101.112";
const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const EXT_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const EXT_KEY_USAGE: &str = "2.5.29.15";
const EXT_EXT_KEY_USAGE: &str = "2.5.29.37";
/// Longest chain followed.
const MAX_DEPTH: usize = 8;

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Certificate(what.to_string())
}

/// DER certificates from PEM text (one or more `CERTIFICATE` blocks).
pub fn certificates_from_pem(pem: &str) -> Result<Vec<Vec<u8>>, Error> {
    let certs = Certificate::load_pem_chain(pem.as_bytes())
        .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the PEM text"));
    }
    certs.iter().map(|c| c.to_der().map_err(bad)).collect()
}

/// The public key a certificate certifies.
pub fn certified_key(der: &[u8]) -> Result<PublicKey, Error> {
    let cert =
        Certificate::from_der(der).map_err(|e| bad(format!("not a DER certificate: {e}")))?;
    key_of(&cert)
}

fn key_of(cert: &Certificate) -> Result<PublicKey, Error> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(bad)?;
    PublicKey::from_spki_der(&spki)
}

fn extension<'a>(cert: &'a Certificate, oid: &str) -> Option<&'a [u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// Checks that `issuer` signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), Error> {
    let tbs = cert.tbs_certificate.to_der().map_err(bad)?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| bad("signature bit string is not whole bytes"))?;
    let key = key_of(issuer)?;
    let alg = cert.signature_algorithm.oid.to_string();
    let fits = matches!(
        (alg.as_str(), &key),
        (ECDSA_SHA256, PublicKey::P256(_))
            | (ECDSA_SHA384, PublicKey::P384(_))
            | (ED25519, PublicKey::Ed25519(_))
    );
    if !fits {
        return Err(bad(format!(
            "{} is signed with algorithm {alg} by a {} key; supported: ECDSA P-256/SHA-256, P-384/SHA-384, Ed25519",
            subject(cert),
            key.kind()
        )));
    }
    key.verify(&tbs, sig).map_err(|_| {
        bad(format!(
            "the signature on {} does not verify with the key of {}",
            subject(cert),
            subject(issuer)
        ))
    })
}

fn valid_at(cert: &Certificate, at: std::time::Duration) -> Result<(), Error> {
    let v = &cert.tbs_certificate.validity;
    if v.not_before.to_unix_duration() > at || v.not_after.to_unix_duration() < at {
        return Err(bad(format!(
            "{} was not valid when the signing certificate was issued",
            subject(cert)
        )));
    }
    Ok(())
}

fn is_ca(cert: &Certificate) -> bool {
    extension(cert, EXT_BASIC_CONSTRAINTS)
        .and_then(|b| BasicConstraints::from_der(b).ok())
        .is_some_and(|b| b.ca)
}

/// A signing certificate must allow digital signatures (when it has a key
/// usage) and be for code signing (extended key usage).
fn check_signing_certificate(leaf: &Certificate) -> Result<(), Error> {
    if let Some(ku) = extension(leaf, EXT_KEY_USAGE).and_then(|b| KeyUsage::from_der(b).ok()) {
        if !ku.0.contains(KeyUsages::DigitalSignature) {
            return Err(bad(format!(
                "{} does not allow digital signatures (key usage)",
                subject(leaf)
            )));
        }
    }
    let eku = extension(leaf, EXT_EXT_KEY_USAGE)
        .and_then(|b| ExtendedKeyUsage::from_der(b).ok())
        .ok_or_else(|| {
            bad(format!(
                "{} has no extended key usage; code signing is required",
                subject(leaf)
            ))
        })?;
    if !eku.0.iter().any(|o| o.to_string() == CODE_SIGNING) {
        return Err(bad(format!(
            "{} is not a code-signing certificate (extended key usage)",
            subject(leaf)
        )));
    }
    Ok(())
}

/// Checks a DER signing certificate's usages (before signing with it).
pub fn check_signing_der(der: &[u8]) -> Result<(), Error> {
    let cert =
        Certificate::from_der(der).map_err(|e| bad(format!("not a DER certificate: {e}")))?;
    check_signing_certificate(&cert)
}

/// Verifies `chain` (signing certificate first, then intermediates) up to
/// one of `roots`, and returns the signing certificate's key.
pub fn verify_chain(chain: &[Vec<u8>], roots: &[Vec<u8>]) -> Result<PublicKey, Error> {
    let parse = |d: &Vec<u8>| {
        Certificate::from_der(d).map_err(|e| bad(format!("not a DER certificate: {e}")))
    };
    let chain: Vec<Certificate> = chain.iter().map(parse).collect::<Result<_, _>>()?;
    let roots: Vec<Certificate> = roots.iter().map(parse).collect::<Result<_, _>>()?;
    let leaf = chain
        .first()
        .ok_or_else(|| bad("the bundle has no signing certificate"))?;
    let at = leaf.tbs_certificate.validity.not_before.to_unix_duration();
    check_signing_certificate(leaf)?;
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        valid_at(current, at)?;
        let issuer_name = &current.tbs_certificate.issuer;
        if let Some(root) = roots
            .iter()
            .find(|r| &r.tbs_certificate.subject == issuer_name && signed_by(current, r).is_ok())
        {
            valid_at(root, at)?;
            return key_of(leaf);
        }
        let next = chain
            .iter()
            .skip(1)
            .find(|c| &c.tbs_certificate.subject == issuer_name && signed_by(current, c).is_ok())
            .ok_or_else(|| {
                bad(format!(
                    "no trusted root or chain certificate signed {}",
                    subject(current)
                ))
            })?;
        if !is_ca(next) {
            return Err(bad(format!(
                "{} issued a certificate but is not a CA",
                subject(next)
            )));
        }
        current = next;
    }
    Err(bad("the certificate chain is longer than 8"))
}
