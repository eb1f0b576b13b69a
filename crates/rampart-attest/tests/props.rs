//! The bundle, envelope and statement parsers on random and mutated input:
//! they return errors, never panic, and a mutated bundle that still
//! verifies carries the same signed payload.

#![cfg(test)]

use proptest::prelude::*;
use rampart_attest::{Bundle, KeyKind, SigningKey, Statement, IN_TOTO_PAYLOAD_TYPE};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Bundle::from_json(&data);
        let _ = Statement::from_payload(&data, None);
    }

    #[test]
    fn mutated_bundles_never_verify_another_payload(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let k = SigningKey::generate(KeyKind::P256);
        let b = Bundle::sign(IN_TOTO_PAYLOAD_TYPE, br#"{"_type": "x"}"#.to_vec(), &k).unwrap();
        let mut json = b.to_json();
        let i = at.index(json.len());
        json[i] = byte;
        if let Ok(parsed) = Bundle::from_json(&json) {
            if parsed.verify(&k.public(), IN_TOTO_PAYLOAD_TYPE).is_ok() {
                prop_assert_eq!(&parsed.dsse_envelope.payload, &b.dsse_envelope.payload);
                prop_assert_eq!(&parsed.dsse_envelope.payload_type, &b.dsse_envelope.payload_type);
            }
        }
    }
}
