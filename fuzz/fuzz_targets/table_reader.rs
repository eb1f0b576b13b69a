//! The dataset readers and writers on arbitrary bytes: the first byte
//! picks the format, the rest is the file. Every value is replaced, so the
//! writers run too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_table::{process_bytes, Cell, Format, Options, Visitor};

struct Replace;

impl Visitor for Replace {
    fn cell(&mut self, c: &Cell) -> Option<String> {
        assert!(c.record >= 1);
        Some(c.value.chars().rev().collect())
    }
    fn keep_column(&self, column: &str) -> bool {
        column.len() % 3 != 1
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let format = match which % 5 {
        0 => Format::Text,
        1 => Format::Delimited(b','),
        2 => Format::Delimited(b'\t'),
        3 => Format::JsonLines,
        _ => Format::Json,
    };
    let options = Options { max_record: 1 << 12, ..Options::default() };
    let mut out: Vec<u8> = Vec::new();
    let _ = process_bytes(format, bytes, &options, &mut Replace, Some(&mut out));
});
