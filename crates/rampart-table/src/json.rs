//! JSON Lines, and JSON documents: a top-level array is split into its
//! elements by a byte scanner (strings and escapes respected) so that each
//! is parsed alone and memory stays bounded; any other document is one
//! record. Values are named by their path: `user.email`, `tags[]`.

use crate::read::{Line, Lines};
use crate::{Cell, Error, Options, Tracker, Visitor};
use serde_json::Value;
use std::io::{BufRead, Write};

/// Shows every string, number, boolean and null (as an empty value) in
/// `value` to the visitor, replacing and dropping as it says. Other
/// values it replaces become strings.
fn walk(
    value: &mut Value,
    path: &mut String,
    at: (u64, u64),
    visitor: &mut dyn Visitor,
    columns: &mut Vec<String>,
) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key);
                if !visitor.keep_column(path) {
                    map.remove(&key);
                } else if let Some(v) = map.get_mut(&key) {
                    walk(v, path, at, visitor, columns);
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for v in items.iter_mut() {
                walk(v, path, at, visitor, columns);
            }
            path.truncate(len);
        }
        Value::String(s) => {
            if let Some(new) = visit(s, path, at, visitor, columns) {
                *s = new;
            }
        }
        Value::Number(n) => {
            let text = n.to_string();
            if let Some(new) = visit(&text, path, at, visitor, columns) {
                *value = Value::String(new);
            }
        }
        // Shown as text, as a CSV cell holds them: a null is an empty
        // value (so that `not_null` and null shares count JSON nulls).
        Value::Bool(b) => {
            let text = if *b { "true" } else { "false" };
            if let Some(new) = visit(text, path, at, visitor, columns) {
                *value = Value::String(new);
            }
        }
        Value::Null => {
            if let Some(new) = visit("", path, at, visitor, columns) {
                *value = Value::String(new);
            }
        }
    }
}

fn visit(
    value: &str,
    path: &str,
    (record, line): (u64, u64),
    visitor: &mut dyn Visitor,
    columns: &mut Vec<String>,
) -> Option<String> {
    if columns.len() < 1000 && !columns.iter().any(|c| c == path) {
        columns.push(path.to_string());
    }
    visitor.cell(&Cell {
        record,
        line,
        column: path,
        value,
    })
}

/// A JSON value parsed with every object's keys distinct. serde_json
/// keeps the last of two equal keys (as Python does): the first value
/// would go unscanned, and a rewrite would drop it. Such a record is bad.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(v) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears twice in one object (readers keep one value and drop the other)"
                )));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses one record and walks it; a record that does not parse is bad.
fn record(
    bytes: &[u8],
    line: u64,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
) -> Result<Option<Value>, Error> {
    let mut value: Value = match serde_json::from_slice::<Unique>(bytes) {
        Ok(v) => v.0,
        Err(e) => {
            tracker.bad(
                line + e.line().saturating_sub(1) as u64,
                format!("invalid JSON: {e}"),
            )?;
            return Ok(None);
        }
    };
    tracker.summary.records += 1;
    let at = (tracker.summary.records, line);
    walk(
        &mut value,
        &mut String::new(),
        at,
        visitor,
        &mut tracker.summary.columns,
    );
    Ok(Some(value))
}

pub fn lines(
    mut reader: Box<dyn BufRead>,
    options: &Options,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    mut out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let mut lines = Lines::new(options.max_record);
    // Outputs keep each line's ending, and blank lines, so that a line
    // number names the same record in the input and the output.
    while let Some(Line { no, bytes, ending }) = lines.next(&mut reader, tracker)? {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            if let Some(w) = out.as_deref_mut() {
                w.write_all(ending).map_err(Error::Write)?;
            }
            continue;
        }
        if let Some(value) = record(bytes, no, tracker, visitor)? {
            let kept = visitor.keep_record(tracker.summary.records);
            if let Some(w) = out.as_deref_mut().filter(|_| kept) {
                serde_json::to_writer(&mut *w, &value)
                    .map_err(|e| Error::Write(e.into()))
                    .and_then(|()| w.write_all(ending).map_err(Error::Write))?;
            }
        }
    }
    Ok(())
}

/// Splits a top-level JSON array into element byte strings.
struct Splitter {
    line: u64,
    max: usize,
    /// The array's closing `]` was read.
    closed: bool,
}

enum Element {
    Item {
        bytes: Vec<u8>,
        line: u64,
    },
    TooLong {
        line: u64,
    },
    End,
    /// The file ended inside the array: it was cut short.
    Truncated {
        line: u64,
    },
}

impl Splitter {
    fn byte(&mut self, r: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
        let b = match r.fill_buf()?.first() {
            Some(&b) => b,
            None => return Ok(None),
        };
        r.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    /// The next element, after skipping the separator before it.
    fn next(&mut self, r: &mut dyn BufRead) -> std::io::Result<Element> {
        if self.closed {
            return Ok(Element::End);
        }
        let mut bytes = Vec::new();
        let (mut depth, mut in_string, mut escaped, mut too_long) = (0usize, false, false, false);
        let mut start_line = self.line;
        while let Some(b) = self.byte(r)? {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b']' if bytes.is_empty() => {
                        self.closed = true;
                        return Ok(Element::End);
                    }
                    b']' | b',' if depth == 0 => {
                        self.closed = b == b']';
                        return Ok(if too_long {
                            Element::TooLong { line: start_line }
                        } else {
                            Element::Item {
                                bytes,
                                line: start_line,
                            }
                        });
                    }
                    _ if bytes.is_empty() && b.is_ascii_whitespace() => {
                        start_line = self.line;
                        continue;
                    }
                    _ => {}
                }
            }
            if bytes.len() < self.max {
                bytes.push(b);
            } else {
                too_long = true;
            }
        }
        Ok(Element::Truncated { line: start_line })
    }
}

pub fn document(
    mut reader: Box<dyn BufRead>,
    options: &Options,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    mut out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let mut splitter = Splitter {
        line: 1,
        max: options.max_record,
        closed: false,
    };
    // Up to the first non-space byte.
    let first = loop {
        match splitter.byte(&mut reader).map_err(|e| tracker.io(e))? {
            Some(b) if b.is_ascii_whitespace() => continue,
            other => break other,
        }
    };
    if first != Some(b'[') {
        // One document, bounded like a record.
        let mut bytes: Vec<u8> = first.into_iter().collect();
        let limit = options.max_record as u64;
        let rest = crate::read::head(&mut reader, limit).map_err(|e| tracker.io(e))?;
        bytes.extend_from_slice(&rest);
        if bytes.len() as u64 >= limit {
            return Err(Error::Bad {
                path: tracker.path.to_string(),
                line: 1,
                message: format!(
                    "a JSON document over {limit} bytes that is not an array (use JSON Lines)"
                ),
            });
        }
        if let Some(value) = record(&bytes, 1, tracker, visitor)? {
            let kept = visitor.keep_record(tracker.summary.records);
            if let Some(w) = out.as_deref_mut().filter(|_| kept) {
                serde_json::to_writer(&mut *w, &value).map_err(|e| Error::Write(e.into()))?;
                w.write_all(b"\n").map_err(Error::Write)?;
            }
        }
        return Ok(());
    }
    let mut written = 0u64;
    if let Some(w) = out.as_deref_mut() {
        w.write_all(b"[").map_err(Error::Write)?;
    }
    loop {
        let element = splitter.next(&mut reader).map_err(|e| tracker.io(e))?;
        let (bytes, line) = match element {
            Element::End => {
                // Only space may follow the array: a second array (two
                // documents appended) would otherwise go unread.
                let after = loop {
                    match splitter.byte(&mut reader).map_err(|e| tracker.io(e))? {
                        Some(b) if b.is_ascii_whitespace() => continue,
                        other => break other,
                    }
                };
                if after.is_some() {
                    return Err(Error::Bad {
                        path: tracker.path.to_string(),
                        line: splitter.line,
                        message: "more data after the end of the JSON array (two documents appended? use JSON Lines)".into(),
                    });
                }
                break;
            }
            Element::Truncated { line } => {
                return Err(Error::Bad {
                    path: tracker.path.to_string(),
                    line,
                    message: "the file ends inside the JSON array (truncated?): no closing `]`"
                        .into(),
                })
            }
            Element::TooLong { line } => {
                tracker.bad(
                    line,
                    format!("array element longer than {} bytes", options.max_record),
                )?;
                continue;
            }
            Element::Item { bytes, line } => (bytes, line),
        };
        if let Some(value) = record(&bytes, line, tracker, visitor)? {
            let kept = visitor.keep_record(tracker.summary.records);
            if let Some(w) = out.as_deref_mut().filter(|_| kept) {
                w.write_all(if written == 0 { b"\n" } else { b",\n" })
                    .map_err(Error::Write)?;
                serde_json::to_writer(&mut *w, &value).map_err(|e| Error::Write(e.into()))?;
                written += 1;
            }
        }
    }
    if let Some(w) = out {
        w.write_all(b"\n]\n").map_err(Error::Write)?;
    }
    Ok(())
}
