//! The safetensors header validator on arbitrary bytes, with data
//! sections of several sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_scan::safetensors::validate;

fuzz_target!(|data: &[u8]| {
    for data_len in [0u64, 7, 4096, u64::MAX] {
        let _ = validate(data, data_len);
    }
});
