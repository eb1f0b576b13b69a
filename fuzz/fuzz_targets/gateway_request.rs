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
        // Rows the input contract passes keep its bounds.
        if contract().check(&r.inputs).is_ok() {
            let rampart_gateway::oip::Data::F32(x) = &r.inputs[0].data else {
                panic!("X is declared FP32")
            };
            for row in x.chunks(4) {
                assert!((0.0..=10.0).contains(&row[0]) && row[0].fract() == 0.0, "{row:?}");
                assert!((-1.0..=1.0).contains(&row[1]), "{row:?}");
            }
        }
    }
    let _ = check_depth(data, 8);
    // The OpenAI path: a body is one JSON object with a string model.
    if let Ok((model, _)) = rampart_gateway::fuzzing::openai_head(data) {
        let v: serde_json::Value = serde_json::from_slice(data).expect("accepted bodies are JSON");
        assert_eq!(v.get("model").and_then(|m| m.as_str()), Some(model.as_str()));
    }
    let _ = rampart_gateway::fuzzing::used_tokens(data);
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

/// Feature 0 of X: a whole number from 0 to 10; feature 1: -1 to 1.
fn contract() -> &'static rampart_gateway::contract::Contract {
    static CONTRACT: std::sync::OnceLock<rampart_gateway::contract::Contract> =
        std::sync::OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("rampart-fuzz-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[[expect]]\ncolumn = \"a\"\ntype = \"integer\"\nrange = { min = 0, max = 10 }\n\
             [[expect]]\ncolumn = \"b\"\nrange = { min = -1, max = 1 }\n\
             [[expect]]\ncolumn = \"c\"\n[[expect]]\ncolumn = \"d\"\n",
        )
        .expect("the temporary folder is writable");
        let cols: Vec<String> = ["a", "b", "c", "d"].iter().map(|c| c.to_string()).collect();
        let c = rampart_gateway::contract::Contract::read(&path, Some(&cols), Some("X"))
            .expect("the fixture contract reads");
        let _ = std::fs::remove_file(&path);
        c
    })
}
