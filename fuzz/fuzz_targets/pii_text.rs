//! The PII scanner on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for m in rampart_pii::scan_text(&text) {
        assert!(m.start < m.end && m.end <= text.len());
    }
});
