//! GGUF (v1 to v3) header reader: metadata and tensor infos, read in one
//! bounded forward pass that never touches tensor data. Strings that are
//! Jinja templates are kept for [`crate::template`].
//!
//! Layout (ggml docs/gguf.md): magic `GGUF`, version u32, tensor count and
//! metadata count (u32 in v1, u64 after), metadata key/value pairs, tensor
//! infos, then tensor data aligned to `general.alignment` (default 32).
//! Big-endian files carry the same layout with every integer swapped.

use std::io;

use rampart_core::{Finding, Location, Severity};

use crate::rules::{GGUF_INVALID, TEMPLATE_UNPARSED};
use crate::source::Stream;

/// Most header problems reported per file.
const MAX_PROBLEMS: usize = 100;

pub const MAGIC: &[u8] = b"GGUF";
/// Most tensors and metadata pairs accepted (real models: a few thousand
/// tensors, a few dozen keys).
const MAX_TENSORS: u64 = 1 << 18;
const MAX_KV: u64 = 1 << 16;
/// Most elements in one metadata array (vocabularies: ~256k tokens).
const MAX_ARRAY: u64 = 1 << 26;
/// Longest metadata key, and longest string value kept in memory.
const MAX_KEY: u64 = 1 << 16;
const MAX_KEPT: u64 = crate::template::MAX_TEMPLATE as u64;
/// Longest string value at all (it is skipped unless kept).
const MAX_STRING: u64 = 1 << 30;
/// GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;
const MAX_NESTING: u32 = 4;

/// What the header says, and what is wrong with it.
#[derive(Debug, Default)]
pub struct Header {
    pub version: u32,
    /// Byte order of the file (GGUF's big-endian variant).
    pub big_endian: bool,
    pub tensors: u64,
    pub architecture: Option<String>,
    /// Metadata strings that look like Jinja templates: (key, offset,
    /// text); the text is `None` when it was too long to keep.
    pub templates: Vec<(String, u64, Option<String>)>,
    /// Problems, each with the metadata key or tensor name it is about.
    pub problems: Vec<Problem>,
    /// Byte offset where tensor data starts.
    pub data_start: u64,
    /// End of the last tensor, relative to `data_start`.
    pub data_end: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub what: String,
    pub key: Option<String>,
    pub offset: u64,
}

/// Why the header could not be read to its end.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Truncated(u64),
    /// A structural error after which nothing more can be read.
    Invalid(Problem),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// (elements per block, bytes per block) of each ggml tensor type, as in
/// gguf-py's GGML_QUANT_SIZES (gguf 0.19.0).
fn block(ty: u32) -> Option<(u64, u64)> {
    Some(match ty {
        0 => (1, 4),
        1 | 30 => (1, 2),
        2 | 20 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 40),
        10 => (256, 84),
        11 | 21 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 | 35 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        25 => (1, 2),
        26 => (1, 4),
        27 | 28 => (1, 8),
        29 => (256, 56),
        34 => (256, 54),
        39 => (32, 17),
        40 => (64, 36),
        41 => (128, 18),
        _ => return None,
    })
}

/// Fixed size of a scalar metadata value type, `None` for strings/arrays.
fn scalar_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

const STRING: u32 = 8;
const ARRAY: u32 = 9;

struct Reader<'s, 'a> {
    s: &'s mut Stream<'a>,
    be: bool,
    v1: bool,
}

impl Reader<'_, '_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.s.byte()?.ok_or(Error::Truncated(self.s.offset()))?;
        }
        if self.be {
            out.reverse();
        }
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    /// A count or length: u32 in v1, u64 after.
    fn len(&mut self) -> Result<u64, Error> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn skip(&mut self, n: u64) -> Result<(), Error> {
        if self.s.skip(n)? < n {
            return Err(Error::Truncated(self.s.offset()));
        }
        Ok(())
    }
    fn invalid(&self, what: String, key: Option<&str>) -> Error {
        Error::Invalid(Problem {
            what,
            key: key.map(str::to_string),
            offset: self.s.offset(),
        })
    }
    /// A string of at most `keep` bytes is returned; longer ones are
    /// skipped (`None`).
    fn string(&mut self, keep: u64, key: Option<&str>) -> Result<Option<String>, Error> {
        let n = self.len()?;
        if n > MAX_STRING {
            return Err(self.invalid(format!("string of {n} bytes"), key));
        }
        if n > keep {
            self.skip(n)?;
            return Ok(None);
        }
        let mut buf = Vec::new();
        if !self.s.read_into(n as usize, &mut buf)? {
            return Err(Error::Truncated(self.s.offset()));
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// Reads the header. `file_len`, when known, bounds the tensors.
pub fn read(s: &mut Stream<'_>, file_len: Option<u64>) -> Result<Header, Error> {
    let mut magic = Vec::new();
    if !s.read_into(4, &mut magic)? || magic != MAGIC {
        return Err(Error::Truncated(0));
    }
    let raw = {
        let mut r = Reader {
            s,
            be: false,
            v1: false,
        };
        r.u32()?
    };
    let (version, be) = if raw <= 0xffff {
        (raw, false)
    } else {
        (raw.swap_bytes(), true)
    };
    let mut h = Header {
        version,
        big_endian: be,
        ..Header::default()
    };
    if !(1..=3).contains(&version) {
        return Err(Error::Invalid(Problem {
            what: format!("unknown GGUF version {version}"),
            key: None,
            offset: 4,
        }));
    }
    let mut r = Reader {
        s,
        be,
        v1: version == 1,
    };
    let tensors = r.len()?;
    let kvs = r.len()?;
    if tensors > MAX_TENSORS {
        return Err(r.invalid(format!("{tensors} tensors (limit {MAX_TENSORS})"), None));
    }
    if kvs > MAX_KV {
        return Err(r.invalid(format!("{kvs} metadata pairs (limit {MAX_KV})"), None));
    }
    h.tensors = tensors;
    let mut alignment = 32u64;
    // Template text kept across all keys.
    let mut kept_budget: u64 = 4 * MAX_KEPT;
    let mut keys = std::collections::HashSet::new();
    for _ in 0..kvs {
        let at = r.s.offset();
        let key = r
            .string(MAX_KEY, None)?
            .ok_or_else(|| r.invalid("metadata key over 64 KiB".into(), None))?;
        if !keys.insert(fingerprint(&key)) {
            h.problems.push(Problem {
                what: "duplicate metadata key".into(),
                key: Some(clip(&key)),
                offset: at,
            });
        }
        let ty = r.u32()?;
        let value_at = r.s.offset();
        match ty {
            STRING => {
                let keep = MAX_KEPT.min(kept_budget);
                if let Some(text) = r.string(keep, Some(&key))? {
                    if key == "general.architecture" {
                        h.architecture = Some(text.chars().take(100).collect());
                    }
                    if key.contains("chat_template") || text.contains("{%") || text.contains("{{") {
                        kept_budget = kept_budget.saturating_sub(text.len() as u64);
                        h.templates.push((clip(&key), value_at, Some(text)));
                    }
                } else if key.contains("chat_template") {
                    // Too long to keep: its content is unknown.
                    h.templates.push((clip(&key), value_at, None));
                }
            }
            ARRAY => value_array(&mut r, &key, 0)?,
            _ => {
                let size = scalar_size(ty).ok_or_else(|| {
                    r.invalid(format!("unknown metadata value type {ty}"), Some(&key))
                })?;
                if key == "general.alignment" {
                    if ty != 4 {
                        return Err(r.invalid("general.alignment is not a u32".into(), Some(&key)));
                    }
                    alignment = u64::from(r.u32()?);
                    if alignment == 0 || !alignment.is_power_of_two() {
                        return Err(r.invalid(
                            format!("alignment {alignment} is not a power of two"),
                            Some(&key),
                        ));
                    }
                } else {
                    r.skip(size)?;
                }
            }
        }
    }
    let infos = tensor_infos(&mut r, tensors, alignment, &mut h.problems)?;
    let end = r.s.offset();
    h.data_start = end.div_ceil(alignment).saturating_mul(alignment);
    h.data_end = check_layout(&infos, h.data_start, file_len, &mut h.problems);
    Ok(h)
}

fn value_array(r: &mut Reader<'_, '_>, key: &str, depth: u32) -> Result<(), Error> {
    if depth > MAX_NESTING {
        return Err(r.invalid("arrays nested too deeply".into(), Some(key)));
    }
    let ty = r.u32()?;
    let n = r.len()?;
    if n > MAX_ARRAY {
        return Err(r.invalid(
            format!("array of {n} elements (limit {MAX_ARRAY})"),
            Some(key),
        ));
    }
    match ty {
        STRING => {
            for _ in 0..n {
                let len = r.len()?;
                if len > MAX_STRING {
                    return Err(r.invalid(format!("string of {len} bytes"), Some(key)));
                }
                r.skip(len)?;
            }
        }
        ARRAY => {
            for _ in 0..n {
                value_array(r, key, depth + 1)?;
            }
        }
        _ => {
            let size = scalar_size(ty)
                .ok_or_else(|| r.invalid(format!("unknown array element type {ty}"), Some(key)))?;
            r.skip(n.saturating_mul(size))?;
        }
    }
    Ok(())
}

/// A 64-bit hash, to find duplicates without keeping every name.
fn fingerprint(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Names in messages are clipped (GGML_MAX_NAME is 64).
fn clip(s: &str) -> String {
    s.chars().take(128).collect()
}

struct Info {
    name: String,
    hash: u64,
    offset: u64,
    size: Option<u64>,
    at: u64,
}

fn tensor_infos(
    r: &mut Reader<'_, '_>,
    count: u64,
    alignment: u64,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Info>, Error> {
    let mut infos = Vec::new();
    for _ in 0..count {
        let at = r.s.offset();
        let full = r
            .string(MAX_KEY, None)?
            .ok_or_else(|| r.invalid("tensor name over 64 KiB".into(), None))?;
        let (name, hash) = (clip(&full), fingerprint(&full));
        drop(full);
        let dims = r.u32()?;
        if dims > MAX_DIMS {
            return Err(r.invalid(
                format!("{dims} dimensions (ggml allows {MAX_DIMS})"),
                Some(&name),
            ));
        }
        let mut elements: Option<u64> = Some(1);
        for _ in 0..dims {
            let d = r.len()?;
            elements = elements.and_then(|e| e.checked_mul(d));
        }
        let ty = r.u32()?;
        let offset = r.u64()?;
        let mut problem = |what: String| {
            problems.push(Problem {
                what,
                key: Some(name.clone()),
                offset: at,
            })
        };
        let size = match (block(ty), elements) {
            (None, _) => {
                problem(format!("unknown tensor type {ty}; its size is not checked"));
                None
            }
            (Some(_), None) => {
                problem("element count overflows 64 bits".into());
                None
            }
            (Some((per, bytes)), Some(n)) => {
                if n % per != 0 {
                    problem(format!(
                        "{n} elements is not a whole number of {per}-element blocks"
                    ));
                }
                (n / per).checked_mul(bytes)
            }
        };
        if offset % alignment != 0 {
            problem(format!("offset {offset} is not aligned to {alignment}"));
        }
        infos.push(Info {
            name,
            hash,
            offset,
            size,
            at,
        });
    }
    Ok(infos)
}

/// Checks tensors lie inside the file without overlapping; returns the end
/// of the last one (relative to the data start).
fn check_layout(
    infos: &[Info],
    data_start: u64,
    file_len: Option<u64>,
    problems: &mut Vec<Problem>,
) -> u64 {
    let mut spans: Vec<(u64, u64, &Info)> = infos
        .iter()
        .filter_map(|i| Some((i.offset, i.offset.checked_add(i.size?)?, i)))
        .collect();
    spans.sort_by_key(|s| (s.0, s.1));
    let data_len = file_len.map(|l| l.saturating_sub(data_start));
    let mut end = 0;
    let mut names = std::collections::HashSet::new();
    for &(start, stop, info) in &spans {
        if !names.insert(info.hash) {
            problems.push(Problem {
                what: "duplicate tensor name".into(),
                key: Some(info.name.clone()),
                offset: info.at,
            });
        }
        if start < end {
            problems.push(Problem {
                what: format!("tensor data [{start}, {stop}) overlaps the previous tensor"),
                key: Some(info.name.clone()),
                offset: info.at,
            });
        }
        if let Some(len) = data_len {
            if stop > len {
                problems.push(Problem {
                    what: format!("tensor data [{start}, {stop}) runs past the end of the file ({len} data bytes)"),
                    key: Some(info.name.clone()),
                    offset: info.at,
                });
            }
        }
        end = end.max(stop);
    }
    end
}

/// Reads a GGUF header and turns it into findings: header problems, and
/// template injection in every Jinja template among the metadata. Returns
/// the findings and the header (when it was read to its end).
pub fn scan(
    s: &mut Stream<'_>,
    file_len: Option<u64>,
    loc: &Location,
) -> (Vec<Finding>, Option<Header>) {
    let invalid = |p: &Problem, sev: Severity| {
        let f = Finding::new(
            GGUF_INVALID,
            sev,
            loc.at(p.offset),
            format!("invalid GGUF: {}", p.what),
        );
        match &p.key {
            Some(k) => f.with("key", k.clone()),
            None => f,
        }
    };
    let mut h = match read(s, file_len) {
        Ok(h) => h,
        Err(Error::Invalid(p)) => return (vec![invalid(&p, Severity::High)], None),
        Err(Error::Truncated(off)) => {
            let p = Problem {
                what: "the header is truncated".into(),
                key: None,
                offset: off,
            };
            return (vec![invalid(&p, Severity::High)], None);
        }
        Err(Error::Io(e)) => {
            let p = Problem {
                what: format!("read error: {e}"),
                key: None,
                offset: s.offset(),
            };
            return (vec![invalid(&p, Severity::High)], None);
        }
    };
    let mut out: Vec<Finding> = h
        .problems
        .iter()
        .take(MAX_PROBLEMS)
        .map(|p| {
            let sev = if p.what.starts_with("unknown tensor type") {
                Severity::Medium
            } else {
                Severity::High
            };
            invalid(p, sev)
        })
        .collect();
    if h.problems.len() > MAX_PROBLEMS {
        out.push(Finding::new(
            GGUF_INVALID,
            Severity::High,
            loc.clone(),
            format!(
                "invalid GGUF: {} more problems not listed",
                h.problems.len() - MAX_PROBLEMS
            ),
        ));
    }
    for (key, offset, text) in std::mem::take(&mut h.templates) {
        let (key, offset) = (&key, &offset);
        match text {
            Some(t) => out.extend(crate::template::findings(&t, key, &loc.at(*offset))),
            None => out.push(
                Finding::new(
                    TEMPLATE_UNPARSED,
                    Severity::High,
                    loc.at(*offset),
                    format!("template `{key}` is too long to analyse"),
                )
                .with("key", key.clone()),
            ),
        }
    }
    (out, Some(h))
}
