//! The symbolic pickle VM on arbitrary bytes, with small limits so that
//! the fuzzer reaches every limit path too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_scan::pickle::vm::{scan_stream, RunOptions, VmLimits};
use rampart_scan::source::Stream;

fuzz_target!(|data: &[u8]| {
    let limits = VmLimits {
        max_opcodes: 100_000,
        max_stack: 10_000,
        max_marks: 1_000,
        max_memo: 10_000,
        max_inline: 64 * 1024,
        ..VmLimits::default()
    };
    for joblib in [false, true] {
        let mut cur = std::io::Cursor::new(data);
        let mut s = Stream::new(&mut cur);
        let _ = scan_stream(&mut s, &limits, &RunOptions { joblib, max_pickles: None });
    }
});
