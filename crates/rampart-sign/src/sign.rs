//! Signing a manifest into a model-signing bundle, and verifying one.

use rampart_attest::{
    Bundle, PublicKey, ResourceDescriptor, SigningKey, Statement, IN_TOTO_PAYLOAD_TYPE,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

use crate::cache::Cache;
use crate::hash::digest_with;
use crate::manifest::{Diff, Manifest, Resource, Serialization};
use crate::Error;

/// The OpenSSF model-signing v1.0 predicate.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

fn statement(m: &Manifest) -> Result<Statement, Error> {
    let subject = ResourceDescriptor {
        name: m.model_name.clone(),
        digest: BTreeMap::from([("sha256".to_string(), m.root_digest()?)]),
    };
    let predicate = json!({
        "serialization": m.serialization.to_json(),
        "resources": m.resources,
    });
    Ok(Statement::new(vec![subject], PREDICATE_TYPE, predicate))
}

/// Signs a manifest: a Sigstore bundle holding the DSSE-signed statement.
pub fn sign(m: &Manifest, key: &SigningKey) -> Result<Bundle, Error> {
    let payload = statement(m)?.to_payload();
    Ok(Bundle::sign(IN_TOTO_PAYLOAD_TYPE, payload, key)?)
}

/// Signs with a key whose certificate chain (DER, signing certificate
/// first) goes into the bundle: model-signing's certificate method.
pub fn sign_with_certificate(
    m: &Manifest,
    key: &SigningKey,
    chain: &[Vec<u8>],
) -> Result<Bundle, Error> {
    let payload = statement(m)?.to_payload();
    Ok(Bundle::sign_with_certificate(
        IN_TOTO_PAYLOAD_TYPE,
        payload,
        key,
        chain,
    )?)
}

/// What a verifier trusts.
pub enum Trust {
    /// The signer's public key (key method).
    Key(PublicKey),
    /// Root certificates (DER) the bundle's chain must lead to.
    Roots(Vec<Vec<u8>>),
}

/// The outcome of a verification whose signature was good.
#[derive(Debug)]
pub struct Verified {
    /// What was signed.
    pub signed: Manifest,
    /// The files as they are now.
    pub actual: Manifest,
    /// Empty when the files match the signature.
    pub diff: Diff,
}

/// Reads the manifest a verified statement carries.
fn manifest_of(st: &Statement) -> Result<Manifest, Error> {
    let bad = |what: &str| Error::Manifest(what.to_string());
    let subject = match st.subject.as_slice() {
        [one] => one,
        _ => return Err(bad("expected exactly one subject")),
    };
    let serialization = Serialization::from_json(
        st.predicate
            .get("serialization")
            .ok_or_else(|| bad("no serialization"))?,
    )?;
    let resources: Vec<Resource> = serde_json::from_value(
        st.predicate
            .get("resources")
            .cloned()
            .ok_or_else(|| bad("no resources"))?,
    )
    .map_err(|e| Error::Manifest(format!("resources: {e}")))?;
    let mut m = Manifest {
        model_name: subject.name.clone(),
        serialization,
        resources,
    };
    m.sort();
    let root = subject
        .digest
        .get("sha256")
        .ok_or_else(|| bad("the subject has no sha256 digest"))?;
    if *root != m.root_digest()? {
        return Err(bad("the subject digest does not match the resources"));
    }
    Ok(m)
}

/// Verifies the bundle with `key`, then re-hashes `root` the way the
/// signer did (plus `extra_ignore`) and compares.
pub fn verify(
    bundle: &Bundle,
    trust: &Trust,
    root: &Path,
    extra_ignore: &[String],
    ignore_unsigned: bool,
    cache: Option<&Cache>,
    progress: &dyn rampart_core::Progress,
) -> Result<Verified, Error> {
    let payload = match trust {
        Trust::Key(key) => bundle.verify(key, IN_TOTO_PAYLOAD_TYPE)?,
        Trust::Roots(roots) => bundle.verify_with_roots(roots, IN_TOTO_PAYLOAD_TYPE)?,
    };
    let st = Statement::from_payload(payload, Some(PREDICATE_TYPE))?;
    let signed = manifest_of(&st)?;
    let opts = signed.serialization.options(extra_ignore);
    let actual = digest_with(root, &opts, cache, progress)?;
    let diff = actual.diff(&signed, ignore_unsigned);
    Ok(Verified {
        signed,
        actual,
        diff,
    })
}
