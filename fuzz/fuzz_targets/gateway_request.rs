//! What the gateway reads from callers before any model runs: inference
//! request bodies (checked against a signature), the JSON depth scan,
//! bearer tokens (API keys and JWTs), and client certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_gateway::oip::{check_depth, parse_infer, DType, Signature, TensorSpec};

fuzz_target!(|data: &[u8]| {
    let sig = Signature {
        inputs: vec![
            TensorSpec { name: "X".into(), dtype: DType::F32, shape: vec![None, Some(4)] },
            TensorSpec { name: "mask".into(), dtype: DType::Bool, shape: vec![None] },
        ],
        outputs: vec![TensorSpec { name: "label".into(), dtype: DType::I64, shape: vec![None] }],
    };
    if let Ok(r) = parse_infer(data, &sig, 16, 10_000) {
        // What passed is exactly what the signature allows.
        assert_eq!(r.inputs.len(), 2);
        let total: usize = r.inputs.iter().map(|t| t.shape.iter().product::<usize>()).sum();
        assert!(total <= 10_000);
        assert_eq!(r.inputs[0].shape.get(1), Some(&4));
    }
    let _ = check_depth(data, 8);
    let _ = rampart_gateway::tls::identity(data);
    if let Ok(token) = std::str::from_utf8(data) {
        let keys = rampart_gateway::keys::Keys::default();
        assert!(keys.check(token, 0).is_err());
        let settings = rampart_gateway::jwt::JwtSettings {
            jwks: "jwks.json".into(),
            issuer: "i".into(),
            audience: "a".into(),
            algorithms: vec![jsonwebtoken::Algorithm::ES256],
            roles_claim: Some("roles".into()),
            leeway: 0,
        };
        assert!(rampart_gateway::jwt::Jwks::default().check(token, &settings).is_err());
    }
});
