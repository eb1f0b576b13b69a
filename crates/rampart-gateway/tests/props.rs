//! Random and mutated bytes into everything the gateway parses from a
//! caller: no panic, and nothing accepted outside the signature.

#![cfg(test)]

use proptest::prelude::*;
use rampart_gateway::oip::{check_depth, parse_infer, DType, Signature, TensorSpec};

fn sig() -> Signature {
    Signature {
        inputs: vec![TensorSpec {
            name: "X".into(),
            dtype: DType::F32,
            shape: vec![None, Some(4)],
        }],
        outputs: vec![],
    }
}

const GOOD: &str = r#"{"id":"a","inputs":[{"name":"X","datatype":"FP32","shape":[2,4],"data":[[1,2,3,4],[5,6,7,8]]}]}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_infer(&data, &sig(), 16, 1000);
        let _ = check_depth(&data, 4);
        let _ = rampart_gateway::tls::identity(&data);
    }

    #[test]
    fn mutated_requests_pass_only_within_the_signature(
        flips in proptest::collection::vec((0..GOOD.len(), any::<u8>()), 1..6)
    ) {
        let mut b = GOOD.as_bytes().to_vec();
        for (i, v) in flips {
            if let Some(x) = b.get_mut(i) {
                *x = v;
            }
        }
        if let Ok(r) = parse_infer(&b, &sig(), 16, 1000) {
            prop_assert_eq!(r.inputs.len(), 1);
            let t = &r.inputs[0];
            prop_assert_eq!(t.shape.len(), 2);
            prop_assert_eq!(t.shape[1], 4);
            let n = t.shape.iter().product::<usize>();
            prop_assert!(n <= 1000);
            match &t.data {
                rampart_gateway::oip::Data::F32(v) => prop_assert_eq!(v.len(), n),
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
