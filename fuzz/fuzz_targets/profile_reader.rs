//! Profiles and expectations from arbitrary bytes: a profile read from
//! JSON (as bytes, and through a JSON tree) is merged and summarised, expectations are parsed, and the bytes'
//! lines are profiled, validated and compared for drift with the
//! profile read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_profile::expect::{Expectations, Validator};
use rampart_profile::drift::{compare, Options, Side};
use rampart_profile::Profile;

fuzz_target!(|data: &[u8]| {
    let mut read = None;
    if let Ok(mut p) = Profile::from_slice(data) {
        let mut q = Profile::default();
        let _ = q.merge(&p);
        let _ = q.merge(&p);
        let _ = p.to_json_text();
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(mut p) = Profile::from_json(&v) {
            let mut q = p.clone();
            let _ = q.merge(&p);
            let _ = p.to_json();
            read = Some(p);
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
    // Drift between the profile read (if any), the lines profiled and the
    // lines kept exactly.
    let mut side = Side::new(16);
    for (i, line) in text.lines().enumerate() {
        side.observe(["a", "b", "c"][i % 3], line);
    }
    let read = Side::from_profile(read.as_ref().unwrap_or(&p));
    let _ = compare(&read, &side, &Options::default());
    let _ = compare(&side, &Side::from_profile(&p), &Options::default());
    let _ = rampart_profile::expect::suggest(&mut p);
    let _ = p.to_json();
});
