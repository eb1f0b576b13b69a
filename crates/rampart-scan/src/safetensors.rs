//! Strict validation of safetensors headers, to the format's spec: an
//! 8-byte little-endian header length, a UTF-8 JSON header, then the data.
//! Only the header is read: tensor bytes are never needed to validate.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Headers larger than this are refused (the reference loader's limit).
pub const MAX_HEADER: u64 = 100_000_000;

/// A spec violation, naming the tensor or key when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: Option<String>,
    pub what: String,
}

/// What a valid (or partly valid) header describes.
#[derive(Debug, Default)]
pub struct Summary {
    pub tensors: usize,
    /// End of the last tensor's data, relative to the data section.
    pub data_end: u64,
    /// `__metadata__` values that hold code: (key, what was seen).
    pub code: Vec<(String, &'static str)>,
}

/// What code and shell commands look like in a metadata string: lowercase
/// fragments that ordinary metadata (format, licence, training arguments)
/// does not hold.
const CODE: &[&str] = &[
    "import os",
    "import subprocess",
    "os.system(",
    "os.popen(",
    "subprocess.",
    "__import__(",
    "exec(",
    // Not "eval(": "call model.eval() before inference" is ordinary.
    "builtins.eval",
    "eval(compile(",
    "b64decode(",
    "pickle.loads(",
    "marshal.loads(",
    "rm -rf",
    "/bin/sh",
    "/bin/bash",
    "bash -c",
    "| sh",
    "|sh",
    "| bash",
    "chmod 777",
    "chmod +x",
    "wget http",
    "curl http",
    "nc -e",
    "bash -i",
    "/dev/tcp/",
    "!!python/",
    "powershell",
    "<script",
    "javascript:",
];

/// The first fragment of [`CODE`] in `value`, if any.
pub fn code_in(value: &str) -> Option<&'static str> {
    let lower = value.to_lowercase();
    CODE.iter().copied().find(|c| lower.contains(c))
}

/// True when `head` starts like a safetensors file of `len` bytes: a
/// header length that fits, then `{`.
pub fn sniff(head: &[u8], len: Option<u64>) -> bool {
    let (Some(n), Some(&b'{')) = (header_len(head), head.get(8)) else {
        return false;
    };
    n >= 2 && len.is_none_or(|l| n <= l.saturating_sub(8))
}

/// The declared header length.
pub fn header_len(head: &[u8]) -> Option<u64> {
    crate::source::le_u64(head, 0)
}

/// Bytes per element times 8 (some dtypes are narrower than a byte).
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorInfo {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// The header's top-level entries in file order, duplicates kept.
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    v.push(entry);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// What is wrong with a tensor's dtype and shape for `bytes` of data.
fn size_problem(info: &TensorInfo, bytes: u64) -> Option<String> {
    let Some(bits) = dtype_bits(&info.dtype) else {
        return Some(format!("unknown dtype {:?}", info.dtype));
    };
    let elements = info.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    match elements.and_then(|n| n.checked_mul(bits)) {
        None => Some("shape overflows".into()),
        Some(b) if b % 8 != 0 => Some("tensor size is not a whole number of bytes".into()),
        Some(b) if b / 8 != bytes => Some(format!(
            "shape {:?} of {} needs {} bytes, data_offsets give {bytes}",
            info.shape,
            info.dtype,
            b / 8
        )),
        Some(_) => None,
    }
}

/// Validates a header against a data section of `data_len` bytes.
pub fn validate(header: &[u8], data_len: u64) -> (Summary, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut summary = Summary::default();
    let bad = |key: Option<&str>, what: String| Problem {
        key: key.map(str::to_string),
        what,
    };
    let text = match std::str::from_utf8(header) {
        Ok(t) => t,
        Err(e) => {
            return (
                summary,
                vec![bad(None, format!("header is not UTF-8: {e}"))],
            )
        }
    };
    let entries = match serde_json::from_str::<Entries>(text) {
        Ok(e) => e.0,
        Err(e) => {
            return (
                summary,
                vec![bad(None, format!("header is not a JSON object: {e}"))],
            )
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for (key, value) in entries {
        if !seen.insert(key.clone()) {
            problems.push(bad(
                Some(&key),
                "duplicate key (loaders keep different copies)".into(),
            ));
            continue;
        }
        if key == "__metadata__" {
            match serde_json::from_value::<BTreeMap<String, String>>(value) {
                Ok(meta) => summary.code.extend(
                    meta.into_iter()
                        .filter_map(|(k, v)| code_in(&v).map(|c| (k, c))),
                ),
                Err(_) => problems.push(bad(
                    Some(&key),
                    "__metadata__ is not a map of strings to strings".into(),
                )),
            }
            continue;
        }
        let info: TensorInfo = match serde_json::from_value(value) {
            Ok(i) => i,
            Err(e) => {
                problems.push(bad(Some(&key), format!("invalid tensor entry: {e}")));
                continue;
            }
        };
        summary.tensors += 1;
        let (begin, end) = info.data_offsets;
        // What the header claims, even out of bounds: bytes past it are
        // trailing data, bytes short of it a truncated file.
        summary.data_end = summary.data_end.max(end);
        if begin > end || end > data_len {
            problems.push(bad(
                Some(&key),
                format!("data_offsets [{begin}, {end}] outside the {data_len}-byte data section"),
            ));
            continue;
        }
        if let Some(p) = size_problem(&info, end - begin) {
            problems.push(bad(Some(&key), p));
        }
        spans.push((begin, end, key));
    }
    spans.sort();
    let mut at = 0u64;
    for (begin, end, key) in &spans {
        if *begin != at {
            let what = if *begin < at {
                "overlaps the previous tensor"
            } else {
                "leaves a gap after the previous tensor"
            };
            problems.push(bad(
                Some(key),
                format!("data_offsets [{begin}, {end}] {what} (ends at {at})"),
            ));
        }
        at = at.max(*end);
    }
    summary.data_end = summary.data_end.max(at);
    (summary, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str, data_len: u64) -> Vec<String> {
        validate(header.as_bytes(), data_len)
            .1
            .into_iter()
            .map(|p| p.what)
            .collect()
    }

    #[test]
    fn valid_header() {
        let h = r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"I8","shape":[4],"data_offsets":[24,28]}}"#;
        let (s, p) = validate(h.as_bytes(), 28);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.tensors, 2);
        assert_eq!(s.data_end, 28);
    }

    #[test]
    fn each_violation_is_named() {
        let t = |d: &str, s: &str, o: &str| {
            format!(r#"{{"t":{{"dtype":"{d}","shape":{s},"data_offsets":{o}}}}}"#)
        };
        assert!(check(&t("F33", "[1]", "[0,4]"), 4)[0].contains("unknown dtype"));
        assert!(check(&t("F32", "[2]", "[0,4]"), 4)[0].contains("needs 8 bytes"));
        assert!(check(&t("F32", "[1]", "[0,4]"), 2)[0].contains("outside"));
        assert!(check(&t("F32", "[1]", "[4,0]"), 8)[0].contains("outside"));
        assert!(check(&t("F4", "[3]", "[0,2]"), 2)[0].contains("whole number"));
        assert!(check(&t("F32", "[18446744073709551615, 2]", "[0,4]"), 4)[0].contains("overflows"));
        assert!(check(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 4)[0].contains("duplicate"));
        assert!(check(r#"{"__metadata__":{"k":1}}"#, 0)[0].contains("__metadata__"));
        assert!(check(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}"#,
            4
        )[0]
        .contains("invalid tensor entry"));
        assert!(check("[1,2]", 0)[0].contains("not a JSON object"));
        assert!(!validate(b"{\xff}", 0).1.is_empty());
    }

    #[test]
    fn overlaps_and_gaps() {
        let h = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#;
        assert!(check(h, 6).iter().any(|p| p.contains("overlaps")));
        let h = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#;
        assert!(check(h, 6).iter().any(|p| p.contains("gap")));
    }

    #[test]
    fn sniffing() {
        let mut f = 5u64.to_le_bytes().to_vec();
        f.extend_from_slice(b"{}   ");
        assert!(sniff(&f, Some(f.len() as u64)));
        assert!(!sniff(&f, Some(10)));
        assert!(!sniff(b"\x80\x04\x95", None));
    }
}
