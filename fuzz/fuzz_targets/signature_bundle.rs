//! The Sigstore bundle / DSSE envelope / in-toto statement parsers,
//! verification with a fixed key, and certificate-chain verification to
//! the test root, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_attest::{certificates_from_pem, Bundle, KeyKind, SigningKey, Statement, IN_TOTO_PAYLOAD_TYPE};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| SigningKey::generate(KeyKind::P256));
    if let Ok(b) = Bundle::from_json(data) {
        let _ = b.verify(&key.public(), IN_TOTO_PAYLOAD_TYPE);
        let _ = Statement::from_payload(&b.dsse_envelope.payload, None);
        static ROOT: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
        let root = ROOT.get_or_init(|| {
            certificates_from_pem(include_str!("../../crates/rampart-attest/tests/fixtures/root.pem")).unwrap_or_default()
        });
        let _ = b.verify_with_roots(root, IN_TOTO_PAYLOAD_TYPE);
    }
});
