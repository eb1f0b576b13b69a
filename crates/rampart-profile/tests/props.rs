//! Arbitrary values and arbitrary profile JSON never panic; suggestions
//! hold on the values they came from; merging a profile with itself
//! doubles its rows.

use proptest::prelude::*;
use rampart_profile::expect::{suggest, Expectations, Validator};
use rampart_profile::Profile;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_values_profile_suggest_and_validate(values in proptest::collection::vec("\\PC{0,12}|[0-9.eE+-]{1,8}|NaN|inf|", 1..80)) {
        let mut p = Profile::default();
        for v in &values {
            p.rows += 1;
            p.observe("x", v);
        }
        let e = suggest(&mut p);
        let text = toml::to_string(&e).unwrap();
        let e = Expectations::parse(&text).unwrap();
        let mut val = Validator::new(e, Box::new(|_, v| v.to_string()));
        for (i, v) in values.iter().enumerate() {
            val.observe(i as u64 + 1, i as u64 + 1, "x", v);
        }
        let failures = val.finish(values.len() as u64);
        prop_assert!(failures.is_empty(), "suggestions fail on their own data: {:?}\n{}", failures, text);
        let json = p.to_json();
        let mut back = Profile::from_json(&json).unwrap();
        let copy = back.clone();
        back.merge(&copy).unwrap();
        prop_assert_eq!(back.rows, 2 * p.rows);
    }

    #[test]
    fn arbitrary_json_is_an_error_or_a_profile(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let Ok(mut p) = Profile::from_json(&v) {
                let _ = p.to_json();
            }
        }
    }
}
