//! Property tests: no input panics the scanner. Random bytes, random bytes
//! behind every magic number the sniffer knows, and mutations of every
//! example in the corpus.

#![cfg(test)]

use proptest::prelude::*;
use rampart_scan::Scanner;
use std::path::Path;

const MAGICS: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b\x08\x00",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"\x04\x22\x4d\x18",
    b"\x93NUMPY\x01\x00",
    b"\x78\x9c",
    b"\x5d\x00\x00\x80\x00",
    b"\x80\x02",
    b"\x80\x04\x95",
    b"\x80\x05",
    b"(",
    b"c",
    b"\x40\x00\x00\x00\x00\x00\x00\x00{",
    b"GGUF\x03\x00\x00\x00",
    b"\x89HDF\r\n\x1a\n",
    b"\x18\x00\x00\x00TFL3",
    b"\x08\x08\x3a",
    b"\x08\x01\x12",
    b"{\"class_name\": \"Sequential\", \"config\": {",
];

fn corpus() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Scanner::default().scan_bytes("random", &data);
    }

    #[test]
    fn magic_then_random_never_panics(m in 0..MAGICS.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = MAGICS[m].to_vec();
        data.extend_from_slice(&tail);
        let _ = Scanner::default().scan_bytes("magic", &data);
    }

    #[test]
    fn mutated_corpus_never_panics(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
    ) {
        let files = corpus();
        let mut data = pick.get(&files).clone();
        for (at, byte, kind) in edits {
            if data.is_empty() { break; }
            let i = at.index(data.len());
            match kind {
                0 => data[i] = byte,
                1 => data.truncate(i),
                2 => data.insert(i, byte),
                _ => { data.remove(i); }
            }
        }
        let _ = Scanner::default().scan_bytes("mutated", &data);
    }
}
