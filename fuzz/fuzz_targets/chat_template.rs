//! The Jinja template analyser, the YAML Python tag finder and the
//! TorchScript source checks on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = rampart_scan::fuzzing::template(&text);
    let _ = rampart_scan::fuzzing::yaml_tags(&text);
    let _ = rampart_scan::fuzzing::torchscript(&text);
});
