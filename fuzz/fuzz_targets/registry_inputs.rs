//! What the registry reads from outside: names and version references
//! from the command line, `KEY=VALUE` metadata, requests as JSON (a REST
//! body), events as JSON (a ledger entry), MLflow's meta.yaml.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_registry::{mlflow, Current, Event, Name, Request, VersionRef};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Event>(data);
    let _ = serde_json::from_slice::<Request>(data);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(n) = s.parse::<Name>() {
            assert!(!n.as_str().is_empty() && !n.as_str().contains('/'));
        }
        if let Ok(v) = s.parse::<VersionRef>() {
            assert!(v.version > 0);
            assert_eq!(v.to_string().parse::<VersionRef>().ok(), Some(v));
        }
        let _ = s.parse::<Current>();
        let _ = rampart_registry::key_value(s);
        let _ = mlflow::parse_meta_yaml(s);
    }
});
