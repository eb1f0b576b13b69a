//! A streaming protobuf wire-format reader for ONNX and TensorFlow files.
//!
//! Why not prost: prost materialises every message, so an empty 2-byte
//! `NodeProto` becomes a struct of ~200 bytes and a hostile file of empty
//! nodes exhausts memory (a 100x amplification), and every tensor payload
//! is copied in. This reader walks a message field by field over a
//! [`Stream`], hands each field to a callback, and skips whatever the
//! callback does not read, so memory is O(nesting depth), tensor bytes are
//! never read (skipped by seeking), and compressed inputs stream. The
//! schemas are the callers' field numbers, taken from the upstream
//! `.proto` files (onnx/onnx.proto; tensorflow/core/framework and
//! core/protobuf), which each caller cites.

use std::io;

use rampart_core::{Finding, Location, Severity};

use crate::source::Stream;

/// Deepest message nesting followed (protobuf's own default is 100).
pub const MAX_DEPTH: u32 = 100;

/// One field's value. `Len` fields leave the stream at their first byte,
/// confined to their length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(u64),
}

#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// Not a valid protobuf message: what, and the byte offset.
    Malformed(String, u64),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl Error {
    /// Where in the input the message broke, when known.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Malformed(_, at) => Some(*at),
            Error::Io(_) => None,
        }
    }

    /// The finding for a `format` file this error stopped: `rule`, high,
    /// at the offset where it broke.
    pub fn finding(&self, rule: &'static str, format: &str, loc: &Location) -> Finding {
        let here = self.offset().map_or_else(|| loc.clone(), |at| loc.at(at));
        Finding::new(
            rule,
            Severity::High,
            here,
            format!("not a valid {format} protobuf: {self}"),
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "read error: {e}"),
            Error::Malformed(what, at) => write!(f, "{what} at byte {at}"),
        }
    }
}

fn malformed<T>(s: &Stream<'_>, what: &str) -> Result<T, Error> {
    Err(Error::Malformed(what.to_string(), s.offset()))
}

/// A base-128 varint; `None` at a clean end of input.
fn varint(s: &mut Stream<'_>) -> Result<Option<u64>, Error> {
    let mut v = 0u64;
    for i in 0..10 {
        let Some(b) = s.byte()? else {
            return if i == 0 {
                Ok(None)
            } else {
                malformed(s, "truncated varint")
            };
        };
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    malformed(s, "varint longer than 10 bytes")
}

fn fixed<const N: usize>(s: &mut Stream<'_>) -> Result<u64, Error> {
    let mut v = 0u64;
    for i in 0..N {
        let b = match s.byte()? {
            Some(b) => b,
            None => return malformed(s, "truncated fixed-width field"),
        };
        v |= u64::from(b) << (8 * i);
    }
    Ok(v)
}

/// Calls `f(stream, field, value)` for every field of the message in the
/// next `len` bytes (`u64::MAX`: to the end of input). For `Len` fields
/// `f` may read the field's bytes (with [`message`], [`string`]...);
/// what it leaves unread is skipped.
pub fn message(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    f: &mut dyn FnMut(&mut Stream<'_>, u32, Value) -> Result<(), Error>,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return malformed(s, "messages nested too deeply");
    }
    let start = s.offset();
    let prev = s.push_limit(len);
    let result = fields(s, len, f);
    let consumed = s.offset() - start;
    s.restore_limit(prev, consumed);
    result
}

fn fields(
    s: &mut Stream<'_>,
    len: u64,
    f: &mut dyn FnMut(&mut Stream<'_>, u32, Value) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = s.offset();
    while let Some(key) = varint(s)? {
        let field = u32::try_from(key >> 3).unwrap_or(0);
        if field == 0 {
            return malformed(s, "field number 0");
        }
        match key & 7 {
            0 => {
                let v = varint(s)?.map_or_else(|| malformed(s, "truncated varint"), Ok)?;
                f(s, field, Value::Varint(v))?;
            }
            1 => {
                let v = fixed::<8>(s)?;
                f(s, field, Value::Fixed64(v))?;
            }
            5 => {
                let v = fixed::<4>(s)? as u32;
                f(s, field, Value::Fixed32(v))?;
            }
            2 => {
                let n = varint(s)?.map_or_else(|| malformed(s, "truncated length"), Ok)?;
                let left = len.saturating_sub(s.offset() - start);
                if n > left {
                    return malformed(
                        s,
                        &format!("field {field} of {n} bytes runs past its message"),
                    );
                }
                let at = s.offset();
                let prev = s.push_limit(n);
                let r = f(s, field, Value::Len(n));
                let used = s.offset() - at;
                if r.is_ok() && used < n && s.skip(n - used)? < n - used {
                    s.restore_limit(prev, n);
                    return malformed(s, "input ends inside a field");
                }
                s.restore_limit(prev, n);
                r?;
            }
            w => {
                return malformed(
                    s,
                    &format!("wire type {w} (groups are not used by these formats)"),
                )
            }
        }
    }
    let read = s.offset() - start;
    if len != u64::MAX && read < len {
        return malformed(s, "input ends inside a message");
    }
    Ok(())
}

/// The field's bytes as text, at most `max` bytes kept (the rest skipped).
pub fn string(s: &mut Stream<'_>, len: u64, max: usize) -> Result<String, Error> {
    let mut buf = Vec::new();
    let keep = len.min(max as u64) as usize;
    if !s.read_into(keep, &mut buf)? {
        return malformed(s, "input ends inside a string");
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// How many varints a packed field of `len` bytes holds (read, not kept).
pub fn count_varints(s: &mut Stream<'_>, len: u64) -> Result<u64, Error> {
    let mut n = 0;
    for _ in 0..len {
        match s.byte()? {
            Some(b) if b & 0x80 == 0 => n += 1,
            Some(_) => {}
            None => return malformed(s, "input ends inside a packed field"),
        }
    }
    Ok(n)
}

/// The varints of a packed field, at most `max` kept.
pub fn varints(s: &mut Stream<'_>, len: u64, max: usize) -> Result<Vec<u64>, Error> {
    let end = s.offset() + len;
    let mut out = Vec::new();
    while s.offset() < end {
        match varint(s)? {
            Some(v) if out.len() < max => out.push(v),
            Some(_) => {}
            None => return malformed(s, "input ends inside a packed field"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> Result<Vec<(u32, Value)>, Error> {
        let mut cur = io::Cursor::new(bytes.to_vec());
        let mut s = Stream::new(&mut cur);
        let mut out = Vec::new();
        message(&mut s, bytes.len() as u64, 0, &mut |_, f, v| {
            out.push((f, v));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_every_wire_type_and_skips_unread_bytes() {
        // field 1 varint 150, field 2 bytes "hi", field 3 fixed32, field 4 fixed64
        let b = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0, 0x21, 2, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let got = walk(&b).unwrap();
        assert_eq!(
            got,
            vec![
                (1, Value::Varint(150)),
                (2, Value::Len(2)),
                (3, Value::Fixed32(1)),
                (4, Value::Fixed64(2))
            ]
        );
    }

    #[test]
    fn rejects_lengths_past_the_message_and_groups() {
        assert!(matches!(
            walk(&[0x12, 0x05, b'a']),
            Err(Error::Malformed(..))
        ));
        assert!(matches!(walk(&[0x0b]), Err(Error::Malformed(..))));
        assert!(matches!(walk(&[0x08]), Err(Error::Malformed(..))));
        assert!(matches!(
            walk(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(Error::Malformed(..))
        ));
    }

    #[test]
    fn nested_messages_are_confined_to_their_length() {
        // field 1 = message { field 1 = string "ab" }, then field 2 varint 7.
        let b = [0x0a, 0x04, 0x0a, 0x02, b'a', b'b', 0x10, 0x07];
        let mut cur = io::Cursor::new(b.to_vec());
        let mut s = Stream::new(&mut cur);
        let mut seen = Vec::new();
        message(&mut s, b.len() as u64, 0, &mut |s, f, v| {
            if let (1, Value::Len(n)) = (f, v) {
                message(s, n, 1, &mut |s, f, v| {
                    if let Value::Len(n) = v {
                        seen.push(format!("inner {f} {}", string(s, n, 10)?));
                    }
                    Ok(())
                })?;
            } else {
                seen.push(format!("outer {f} {v:?}"));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec!["inner 1 ab", "outer 2 Varint(7)"]);
    }
}
