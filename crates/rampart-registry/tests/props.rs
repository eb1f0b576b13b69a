//! The registry's parsers on random and mutated input: names, version
//! references, metadata, requests and events as JSON, MLflow's meta.yaml.
//! None may panic; what they accept keeps its invariants.

#![cfg(test)]

use proptest::prelude::*;
use rampart_registry::{mlflow, Current, Event, Name, Request, VersionRef};

const REQUEST: &str =
    r#"{"op": "promote", "version": "fraud@3", "to": "production", "expect_current": "2"}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn text_parsers_never_panic_and_keep_invariants(s in "\\PC{0,80}") {
        if let Ok(n) = s.parse::<Name>() {
            prop_assert!(!n.as_str().is_empty() && n.as_str().len() <= rampart_registry::MAX_NAME);
            prop_assert!(!n.as_str().contains(['/', '\\', '@', ' ']));
        }
        if let Ok(v) = s.parse::<VersionRef>() {
            prop_assert!(v.version > 0);
            prop_assert_eq!(v.to_string().parse::<VersionRef>().ok(), Some(v));
        }
        let _ = s.parse::<Current>();
        let _ = rampart_registry::key_value(&s);
        let meta = mlflow::parse_meta_yaml(&s);
        prop_assert!(meta.values().all(|v| !v.is_empty() && v != "null"));
    }

    #[test]
    fn json_readers_never_panic_on_mutated_requests(
        flips in proptest::collection::vec((0usize..REQUEST.len(), any::<u8>()), 0..6)
    ) {
        let mut bytes = REQUEST.as_bytes().to_vec();
        for (i, b) in flips {
            if let Some(x) = bytes.get_mut(i) {
                *x = b;
            }
        }
        let _ = serde_json::from_slice::<Request>(&bytes);
        let _ = serde_json::from_slice::<Event>(&bytes);
    }
}

#[test]
fn the_unmutated_request_parses() {
    let r: Request = serde_json::from_str(REQUEST).unwrap();
    assert!(
        matches!(r, Request::Promote(p) if p.to.as_str() == "production" && p.expect_current == Some(Current(Some(2))))
    );
}
