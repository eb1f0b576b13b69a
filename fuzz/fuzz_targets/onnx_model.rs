//! rampart_scan::fuzzing::onnx on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rampart_scan::fuzzing::onnx(data);
});
