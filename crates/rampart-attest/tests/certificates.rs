//! The certificate method on fixtures from tools/gen_certs.sh: a chain
//! to a trusted root verifies; a wrong root, a missing intermediate, a
//! certificate without code signing, a key the certificate does not
//! certify and an edited payload do not.

#![cfg(test)]

use rampart_attest::{certificates_from_pem, Bundle, SigningKey, IN_TOTO_PAYLOAD_TYPE};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn der(name: &str) -> Vec<Vec<u8>> {
    certificates_from_pem(&fixture(name)).unwrap()
}

fn chain(leaf: &str) -> Vec<Vec<u8>> {
    let mut c = der(leaf);
    c.extend(der("intermediate.pem"));
    c
}

#[test]
fn a_chain_to_a_trusted_root_verifies() {
    let key = SigningKey::from_pem(&fixture("leaf.key")).unwrap();
    let b = Bundle::sign_with_certificate(
        IN_TOTO_PAYLOAD_TYPE,
        b"{}".to_vec(),
        &key,
        &chain("leaf.pem"),
    )
    .unwrap();
    let back = Bundle::from_json(&b.to_json()).unwrap();
    assert_eq!(
        back.verify_with_roots(&der("root.pem"), IN_TOTO_PAYLOAD_TYPE)
            .unwrap(),
        b"{}"
    );
    // The intermediate may also be given as trusted instead of carried.
    let mut only_leaf = b.clone();
    only_leaf.verification_material.x509_certificate_chain =
        Some(serde_json::json!({"certificates": [{"rawBytes": base64_of(&der("leaf.pem")[0])}]}));
    assert!(only_leaf
        .verify_with_roots(&der("root.pem"), IN_TOTO_PAYLOAD_TYPE)
        .is_err());
    assert!(only_leaf
        .verify_with_roots(&der("intermediate.pem"), IN_TOTO_PAYLOAD_TYPE)
        .is_ok());
}

fn base64_of(d: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(d)
}

#[test]
fn everything_else_is_refused_with_a_reason() {
    let key = SigningKey::from_pem(&fixture("leaf.key")).unwrap();
    let b = Bundle::sign_with_certificate(
        IN_TOTO_PAYLOAD_TYPE,
        b"{}".to_vec(),
        &key,
        &chain("leaf.pem"),
    )
    .unwrap();
    let err = b
        .verify_with_roots(&der("other-root.pem"), IN_TOTO_PAYLOAD_TYPE)
        .unwrap_err();
    assert!(err.to_string().contains("no trusted root"), "{err}");

    // Signing with a certificate that is not for code signing is refused,
    // and so is verifying a bundle that carries one (as other tools write).
    let noeku_key = SigningKey::from_pem(&fixture("noeku.key")).unwrap();
    let err = Bundle::sign_with_certificate(
        IN_TOTO_PAYLOAD_TYPE,
        b"{}".to_vec(),
        &noeku_key,
        &chain("noeku.pem"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("code-signing"), "{err}");
    let mut nb = b.clone();
    nb.verification_material.x509_certificate_chain = Some(serde_json::json!({"certificates": [
        {"rawBytes": base64_of(&der("noeku.pem")[0])}, {"rawBytes": base64_of(&der("intermediate.pem")[0])}]}));
    let err = nb
        .verify_with_roots(&der("root.pem"), IN_TOTO_PAYLOAD_TYPE)
        .unwrap_err();
    assert!(err.to_string().contains("code-signing"), "{err}");

    let err = Bundle::sign_with_certificate(
        IN_TOTO_PAYLOAD_TYPE,
        b"{}".to_vec(),
        &noeku_key,
        &chain("leaf.pem"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not certify"), "{err}");

    let mut edited = b.clone();
    edited.dsse_envelope.payload = b"{\"x\":1}".to_vec();
    assert!(edited
        .verify_with_roots(&der("root.pem"), IN_TOTO_PAYLOAD_TYPE)
        .is_err());

    let keyed = Bundle::sign(IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &key).unwrap();
    assert!(keyed
        .verify_with_roots(&der("root.pem"), IN_TOTO_PAYLOAD_TYPE)
        .unwrap_err()
        .to_string()
        .contains("no certificate"));
}
