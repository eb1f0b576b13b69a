//! The whole scanner (sniffing, zip/tar/7z, every decompressor, npy,
//! nested pickles) on arbitrary bytes, with a small decompression budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_scan::pickle::globals::Classifier;
use rampart_scan::{ScanLimits, Scanner};

fuzz_target!(|data: &[u8]| {
    let mut limits = ScanLimits::default();
    limits.max_decompressed = 8 << 20;
    limits.vm.max_opcodes = 1_000_000;
    let scanner = Scanner::new(limits, Classifier::default());
    let _ = scanner.scan_bytes("fuzz", data);
});
