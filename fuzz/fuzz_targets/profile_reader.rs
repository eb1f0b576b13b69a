//! Profiles and expectations from arbitrary bytes: a profile read from
//! JSON is merged and summarised, expectations are parsed, and the bytes'
//! lines are profiled and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_profile::expect::{Expectations, Validator};
use rampart_profile::Profile;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(mut p) = Profile::from_json(&v) {
            let mut q = p.clone();
            let _ = q.merge(&p);
            let _ = p.to_json();
        }
    }
    let text = String::from_utf8_lossy(data);
    let e = Expectations::parse(&text).unwrap_or_default();
    let mut v = Validator::new(e.clone(), Box::new(|_, v| v.to_string()));
    let mut p = Profile::default();
    for (i, line) in text.lines().enumerate() {
        let column = ["a", "b", "c"][i % 3];
        p.observe(column, line);
        v.observe(i as u64 / 3 + 1, i as u64 + 1, column, line);
    }
    let _ = v.finish(p.rows);
    let _ = rampart_profile::expect::suggest(&mut p);
    let _ = p.to_json();
});
