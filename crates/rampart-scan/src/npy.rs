//! NumPy `.npy` headers: `\x93NUMPY`, version, header length, and a Python
//! dict literal. Arrays whose dtype holds objects are stored as a pickle
//! after the header (`numpy.load(allow_pickle=True)` runs it).

/// Largest header we parse; NumPy itself caps headers far lower.
const MAX_HEADER: usize = 1 << 20;

pub const MAGIC: &[u8] = b"\x93NUMPY";

/// What the header says about the data that follows.
#[derive(Debug, PartialEq)]
pub struct NpyHeader {
    /// Bytes from the file start to the data.
    pub data_offset: u64,
    pub has_object: bool,
    pub descr: String,
    /// Bytes of array data the header declares (shape x item size), when
    /// the dtype is a plain one; `None` for structured dtypes.
    pub data_len: Option<u64>,
}

/// A Python literal, as far as `.npy` headers use them.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(Option<u64>),
    Const,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.ws();
        self.depth += 1;
        if self.depth > 32 {
            return Err("header nests too deeply".into());
        }
        let r = match self.b.get(self.i).copied() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.b.get(self.i).is_some_and(|&c| c != q) {
                    self.i += 1;
                }
                let s = self.b.get(start..self.i).ok_or("unterminated string")?;
                if !self.eat(q) {
                    return Err("unterminated string".into());
                }
                Ok(Lit::Str(String::from_utf8_lossy(s).into_owned()))
            }
            Some(open @ (b'(' | b'[')) => {
                self.i += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.value()?);
                    if !self.eat(b',') && !self.eat(close) {
                        return Err("expected , or closing bracket".into());
                    } else if self.b.get(self.i - 1) == Some(&close) {
                        break;
                    }
                }
                Ok(Lit::Seq(items))
            }
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b'}') {
                    let k = self.value()?;
                    if !self.eat(b':') {
                        return Err("expected :".into());
                    }
                    let v = self.value()?;
                    items.push((k, v));
                    if !self.eat(b',') && !self.eat(b'}') {
                        return Err("expected , or }".into());
                    } else if self.b.get(self.i - 1) == Some(&b'}') {
                        break;
                    }
                }
                Ok(Lit::Dict(items))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
                {
                    self.i += 1;
                }
                let digits = self.b.get(start..self.i).unwrap_or(&[]);
                let n = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse().ok());
                Ok(Lit::Int(n))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.b.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
                    self.i += 1;
                }
                match self.b.get(start..self.i) {
                    Some(b"True" | b"False" | b"None") => Ok(Lit::Const),
                    _ => Err("unexpected name".into()),
                }
            }
            _ => Err("unexpected character".into()),
        };
        self.depth -= 1;
        r
    }
}

fn has_object(descr: &Lit) -> bool {
    match descr {
        Lit::Str(s) => s.trim_start_matches(['<', '>', '|', '=']).starts_with('O'),
        // [(name, format[, shape]), ...]: only the format can hold objects.
        Lit::Seq(fields) => fields.iter().any(|f| match f {
            Lit::Seq(parts) => parts.get(1).is_some_and(has_object),
            _ => false,
        }),
        _ => false,
    }
}

/// Bytes per item of a plain dtype (`<f8`, `|b1`, `<U10`, `|S3`...).
fn item_size(descr: &str) -> Option<u64> {
    let d = descr.trim_start_matches(['<', '>', '|', '=']);
    let kind = d.chars().next()?;
    let digits: String = d.chars().skip(1).take_while(char::is_ascii_digit).collect();
    let n: u64 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    match kind {
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' => Some(n),
        '?' => Some(1),
        'U' => n.checked_mul(4),
        'M' | 'm' => Some(8),
        _ => None,
    }
}

/// Parses the header at the start of `head`. `head` must hold the whole
/// header (the caller peeks enough bytes).
pub fn parse(head: &[u8]) -> Result<NpyHeader, String> {
    if !head.starts_with(MAGIC) {
        return Err("not a .npy file".into());
    }
    let major = *head.get(6).ok_or("truncated header")?;
    let (len, start) = match major {
        1 => {
            let b: [u8; 2] = head
                .get(8..10)
                .and_then(|b| b.try_into().ok())
                .ok_or("truncated header")?;
            (usize::from(u16::from_le_bytes(b)), 10)
        }
        2 | 3 => (
            crate::source::le_u32(head, 8).ok_or("truncated header")? as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if len > MAX_HEADER {
        return Err(format!(
            "header of {len} bytes is over the {MAX_HEADER}-byte limit"
        ));
    }
    let text = head
        .get(start..start + len)
        .ok_or_else(|| format!("header of {len} bytes truncated"))?;
    let mut p = P {
        b: text,
        i: 0,
        depth: 0,
    };
    let Lit::Dict(items) = p.value()? else {
        return Err("header is not a dict".into());
    };
    let descr = items
        .iter()
        .find(|(k, _)| *k == Lit::Str("descr".into()))
        .map(|(_, v)| v)
        .ok_or("header has no 'descr'")?;
    let shape = items
        .iter()
        .find(|(k, _)| *k == Lit::Str("shape".into()))
        .map(|(_, v)| v);
    let data_len = match (descr, shape) {
        (Lit::Str(d), Some(Lit::Seq(dims))) => dims
            .iter()
            .try_fold(item_size(d), |acc, dim| match (acc, dim) {
                (Some(acc), Lit::Int(Some(n))) => Some(acc.checked_mul(*n)),
                _ => None,
            })
            .flatten(),
        _ => None,
    };
    Ok(NpyHeader {
        data_offset: (start + len) as u64,
        data_len,
        has_object: has_object(descr),
        descr: match descr {
            Lit::Str(s) => s.clone(),
            _ => "structured".into(),
        },
    })
}

/// How many bytes to peek to be sure the whole header is there.
pub fn header_need(head: &[u8]) -> usize {
    match head.get(6) {
        Some(1) => head
            .get(8..10)
            .and_then(|b| b.try_into().ok())
            .map_or(10, |b: [u8; 2]| 10 + usize::from(u16::from_le_bytes(b))),
        Some(2 | 3) => {
            crate::source::le_u32(head, 8).map_or(12, |n| 12usize.saturating_add(n as usize))
        }
        _ => 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[1, 0]);
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v
    }

    #[test]
    fn numeric_and_object() {
        let h = parse(&npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
        ))
        .unwrap();
        assert!(!h.has_object);
        let h = parse(&npy(
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
        ))
        .unwrap();
        assert!(h.has_object);
        let h = parse(&npy(
            "{'descr': [('O', '<f8'), ('b', '|O')], 'fortran_order': False, 'shape': (), }",
        ))
        .unwrap();
        assert!(h.has_object);
        let h = parse(&npy(
            "{'descr': [('O', '<f8')], 'fortran_order': False, 'shape': (), }",
        ))
        .unwrap();
        assert!(!h.has_object, "a field named O is not an object field");
    }

    #[test]
    fn bad_headers() {
        assert!(parse(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
        assert!(parse(&npy("{'descr': ")).is_err());
        assert!(parse(&npy("[1, 2]")).is_err());
        assert!(parse(&npy(&"[".repeat(100))).is_err());
    }
}
