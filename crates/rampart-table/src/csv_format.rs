//! CSV and TSV: the first row names the columns; rows whose field count
//! differs from the header's, or that are not UTF-8, are bad records.

use crate::{Cell, Error, Options, Tracker, Visitor};
use std::io::{BufRead, Read, Write};

/// Fails a read once a line runs past `max` bytes, so that an unclosed
/// quote or a huge field cannot grow a record without bound.
struct LineGuard<R> {
    inner: R,
    max: usize,
    since_newline: usize,
    line: u64,
    /// Double quotes read so far: an odd count at the end of the file
    /// means a quote that is never closed.
    quotes: u64,
    /// The inner reader reached its end.
    eof: bool,
    lines: Lines,
}

/// Records' line numbers as editors count them. The CSV reader's own
/// positions are off after a `\r\n` (the record is placed at the `\n`
/// of the previous line's ending, before it is counted) and after blank
/// lines (placed where they start), so the lines are counted here from
/// the bytes: after each record, [`Lines::anchor`] is given the offset
/// where the reader looks for the next one; its line is that of the
/// first byte after the line endings there.
///
/// The offset is always in the last chunk read: the reader's buffer is
/// refilled only once every byte of it was consumed. So only the last
/// chunk is kept, and memory does not grow with a record's length.
#[derive(Debug)]
struct Lines {
    /// The last chunk read, its offset, and the newlines before it.
    window: Vec<u8>,
    window_start: u64,
    newlines_before: u64,
    /// The byte before the window (`\n` at the start).
    byte_before: u8,
    /// Newlines up to here while looking for a record's first byte.
    seeking: Option<u64>,
    /// The line of the next record, once its first byte was read.
    next: Option<u64>,
    /// The last line of the record just read.
    pub(crate) end: Option<u64>,
    /// Whether the line ending at the last anchor was `\r\n`.
    pub(crate) crlf: bool,
}

impl Default for Lines {
    fn default() -> Lines {
        Lines {
            window: Vec::new(),
            window_start: 0,
            newlines_before: 0,
            byte_before: b'\n',
            seeking: Some(0),
            next: None,
            end: None,
            crlf: false,
        }
    }
}

impl Lines {
    fn read(&mut self, chunk: &[u8]) {
        self.newlines_before += memchr::memchr_iter(b'\n', &self.window).count() as u64;
        self.window_start += self.window.len() as u64;
        if let Some(&last) = self.window.last() {
            self.byte_before = last;
        }
        self.window.clear();
        self.window.extend_from_slice(chunk);
        if let Some(counted) = self.seeking {
            self.seek(counted, 0);
        }
    }

    /// Counts the line endings from `at` in the window: the next record
    /// starts at the first other byte.
    fn seek(&mut self, mut counted: u64, at: usize) {
        for &b in self.window.get(at..).unwrap_or(&[]) {
            match b {
                b'\n' => counted += 1,
                b'\r' => {}
                _ => {
                    self.next = Some(counted + 1);
                    self.seeking = None;
                    return;
                }
            }
        }
        self.seeking = Some(counted);
    }

    /// The reader looks for the next record from byte `offset`.
    fn anchor(&mut self, offset: u64) {
        self.next = None;
        self.seeking = None;
        self.end = None;
        let Some(at) = offset
            .checked_sub(self.window_start)
            .and_then(|at| usize::try_from(at).ok())
            .filter(|&at| at <= self.window.len())
        else {
            // Not where the reader's buffering puts it: the reader's own
            // lines are used.
            return;
        };
        let before = self.window.get(..at).unwrap_or(&[]);
        let counted = self.newlines_before + memchr::memchr_iter(b'\n', before).count() as u64;
        let previous = before.last().copied().unwrap_or(self.byte_before);
        self.end = Some(counted + 1 - u64::from(previous == b'\n').min(counted));
        // A `\r` whose next byte is not read yet is taken for `\r\n`.
        self.crlf = previous == b'\r' && self.window.get(at).is_none_or(|&b| b == b'\n');
        self.seek(counted, at);
    }

    /// The line of the record just read, if it was found.
    fn take(&mut self) -> Option<u64> {
        self.next.take()
    }
}

impl<R> LineGuard<R> {
    /// Follows `chunk` byte by byte: exact, and where an error is found.
    fn scan(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        for &b in chunk {
            if b == b'\n' {
                self.since_newline = 0;
                self.line += 1;
            } else {
                self.since_newline += 1;
                if self.since_newline > self.max {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {} bytes (an unclosed quote?)",
                            self.line + 1,
                            self.max
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Follows `chunk` by its newlines (memchr): no line in it may be
    /// longer than the chunk, so only the line it continues and the one
    /// it starts need their lengths checked. A chunk where a line may
    /// be too long is followed byte by byte, for the error's line.
    fn follow(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let (Some(first), Some(last)) =
            (memchr::memchr(b'\n', chunk), memchr::memrchr(b'\n', chunk))
        else {
            if self.since_newline + chunk.len() > self.max {
                return self.scan(chunk);
            }
            self.since_newline += chunk.len();
            return Ok(());
        };
        let ends_in_time = self.since_newline + first <= self.max;
        let tail = chunk.len() - 1 - last;
        if !ends_in_time || last - first > self.max || tail > self.max {
            return self.scan(chunk);
        }
        self.line += memchr::memchr_iter(b'\n', chunk).count() as u64;
        self.since_newline = tail;
        Ok(())
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.eof |= n == 0 && !buf.is_empty();
        let chunk = buf.get(..n).unwrap_or(&[]);
        self.quotes += memchr::memchr_iter(b'"', chunk).count() as u64;
        self.follow(chunk)?;
        self.lines.read(chunk);
        Ok(n)
    }
}

pub fn process(
    reader: Box<dyn BufRead>,
    delimiter: u8,
    options: &Options,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    mut out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let guarded = LineGuard {
        inner: reader,
        max: options.max_record,
        since_newline: 0,
        line: 0,
        quotes: 0,
        eof: false,
        lines: Lines::default(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(guarded);
    let csv_error = |tracker: &Tracker, e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        Error::Bad {
            path: tracker.path.to_string(),
            line,
            message: e.to_string(),
        }
    };
    let mut record = csv::ByteRecord::new();
    if !rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(tracker, e))?
    {
        return Ok(());
    }
    // Excel's `sep=;` line names the delimiter; the header follows it.
    // Read with that delimiter, the line is two fields: `sep=` and "".
    let hint = match (record.len(), record.get(0), record.get(1)) {
        (2, Some(b"sep="), Some(b"")) => Some([b's', b'e', b'p', b'=', delimiter]),
        _ => None,
    };
    if let Some(hint) = &hint {
        if !rdr
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(tracker, e))?
        {
            return Ok(());
        }
        if let Some(w) = out.as_deref_mut() {
            w.write_all(&hint[..])
                .and_then(|()| w.write_all(b"\n"))
                .map_err(Error::Write)?;
        }
    }
    let after = rdr.position().byte();
    rdr.get_mut().lines.anchor(after);
    // Outputs keep the input's line ending.
    let terminator = if rdr.get_ref().lines.crlf {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let header: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let keep: Vec<bool> = header.iter().map(|h| visitor.keep_column(h)).collect();
    tracker.summary.columns = header.clone();
    let header_line = record.position().map_or(1, |p| p.line());
    if std::str::from_utf8(record.as_slice()).is_err() {
        tracker.bad(header_line, crate::read::invalid_utf8(record.as_slice()))?;
    }
    let names: Vec<String> = header
        .iter()
        .map(|name| {
            let cell = Cell {
                record: 0,
                line: header_line,
                column: "",
                value: name,
            };
            visitor.header(&cell).unwrap_or_else(|| name.clone())
        })
        .collect();
    let mut writer = out.map(|w| {
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(terminator)
            .from_writer(w)
    });
    let write_error = |e: csv::Error| Error::Write(std::io::Error::other(e.to_string()));
    if let Some(w) = writer.as_mut() {
        let kept = names.iter().zip(&keep).filter(|(_, k)| **k).map(|(h, _)| h);
        w.write_record(kept).map_err(write_error)?;
    }
    let mut values: Vec<String> = Vec::with_capacity(header.len());
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(tracker, e)),
        }
        let after = rdr.position().byte();
        let lines = &mut rdr.get_mut().lines;
        let line = lines
            .take()
            .unwrap_or_else(|| record.position().map_or(0, |p| p.line()));
        lines.anchor(after);
        let end = lines.end.unwrap_or(line).max(line);
        // A quote that is never closed swallows the rest of the file into
        // one value, which the CSV reader accepts: it is a bad record.
        if rdr.get_ref().eof && rdr.get_ref().quotes % 2 == 1 && record.as_slice().contains(&b'\n')
        {
            let end = rdr.get_ref().line.max(line);
            tracker.bad(
                line,
                format!("a quote opened in this record is never closed: lines {line}-{end} were read as one record"),
            )?;
            continue;
        }
        if record.len() != header.len() {
            // A stray quote makes one record of many lines: say how many,
            // so that nobody takes one skipped record for one lost row.
            let span = if end > line {
                format!(", one record over lines {line}-{end} (an unbalanced quote?)")
            } else {
                String::new()
            };
            let message = format!(
                "{} fields where the header has {}{span}",
                record.len(),
                header.len()
            );
            tracker.bad(line, message)?;
            continue;
        }
        // One validation of every field (the record's buffers are handed
        // back either way, so nothing is allocated per record).
        let text = match csv::StringRecord::from_byte_record(std::mem::take(&mut record)) {
            Ok(text) => text,
            Err(e) => {
                record = e.into_byte_record();
                tracker.bad(line, crate::read::invalid_utf8(record.as_slice()))?;
                continue;
            }
        };
        tracker.summary.records += 1;
        values.clear();
        for (value, column) in text.iter().zip(&header) {
            let cell = Cell {
                record: tracker.summary.records,
                line,
                column,
                value,
            };
            let replaced = visitor.cell(&cell);
            // Values are kept only to be written out.
            if writer.is_some() {
                values.push(replaced.unwrap_or_else(|| value.to_string()));
            }
        }
        record = text.into_byte_record();
        let record_kept = visitor.keep_record(tracker.summary.records);
        if let Some(w) = writer.as_mut().filter(|_| record_kept) {
            let kept = values
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v);
            w.write_record(kept).map_err(write_error)?;
        }
    }
    if let Some(mut w) = writer {
        w.flush().map_err(Error::Write)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn guard(max: usize) -> LineGuard<&'static [u8]> {
        LineGuard {
            inner: &[],
            max,
            since_newline: 0,
            line: 0,
            quotes: 0,
            eof: false,
            lines: Lines::default(),
        }
    }

    /// Hands out its bytes in chunks of the given sizes.
    struct Chunked {
        bytes: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let size = self
                .sizes
                .get(self.turn % self.sizes.len().max(1))
                .copied()
                .unwrap_or(1);
            self.turn += 1;
            let rest = self.bytes.get(self.at..).unwrap_or(&[]);
            let n = size.min(buf.len()).min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.at += n;
            Ok(n)
        }
    }

    struct SeenLines(Vec<u64>);

    impl Visitor for SeenLines {
        fn cell(&mut self, c: &Cell) -> Option<String> {
            if c.column == "a" {
                self.0.push(c.line);
            }
            None
        }
    }

    fn record_strategy() -> impl Strategy<Value = (String, String)> {
        let field = prop_oneof![
            "[a-z]{0,3}".prop_map(|s| s),
            "[a-z\\n\\r]{0,4}".prop_map(|s| format!("\"{s}\"")),
        ];
        let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\n\n"), Just("\r\n\r\n")];
        ("[a-z]{0,3}", field, ending).prop_map(|(a, b, e)| (format!("x{a},{b}"), e.to_string()))
    }

    proptest! {
        /// Every record's line is the editor's: one more than the newlines
        /// before its first byte, whatever the line endings, blank lines,
        /// quoted line breaks and read sizes; and a rewrite keeps a
        /// `\r\n` file's endings.
        #[test]
        fn lines_are_counted_as_editors_count_them(
            records in proptest::collection::vec(record_strategy(), 0..40),
            crlf_header in any::<bool>(),
            sizes in proptest::collection::vec(1usize..40, 1..6),
        ) {
            let mut text = String::from(if crlf_header { "a,b\r\n" } else { "a,b\n" });
            let mut want = Vec::new();
            for (record, ending) in &records {
                want.push(text.matches('\n').count() as u64 + 1);
                text.push_str(record);
                text.push_str(ending);
            }
            let reader = std::io::BufReader::new(Chunked {
                bytes: text.clone().into_bytes(),
                at: 0,
                sizes,
                turn: 0,
            });
            let mut tracker = crate::Tracker {
                path: "t",
                bad_input: crate::BadInput::Skip,
                summary: crate::Summary::default(),
            };
            let mut seen = SeenLines(Vec::new());
            let mut out: Vec<u8> = Vec::new();
            process(Box::new(reader), b',', &Options::default(), &mut tracker, &mut seen, Some(&mut out)).unwrap();
            prop_assert_eq!(&seen.0, &want, "{:?}", text);
            let out = String::from_utf8(out).unwrap();
            prop_assert_eq!(out.starts_with("a,b\r\n"), crlf_header, "{:?}", out);
        }

        /// Following chunks by their newlines ends in the state, and fails
        /// at the chunk and with the message, that following them byte by
        /// byte does.
        #[test]
        fn newlines_followed_as_bytes_are(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), any::<u8>()], 0..600),
            cuts in proptest::collection::vec(1usize..80, 1..20),
            max in 1usize..60,
        ) {
            let (mut fast, mut slow) = (guard(max), guard(max));
            let mut rest = bytes.as_slice();
            for &cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, after) = rest.split_at(cut.min(rest.len()));
                rest = after;
                let (a, b) = (fast.follow(chunk), slow.scan(chunk));
                prop_assert_eq!(a.is_err(), b.is_err());
                if let (Err(a), Err(b)) = (a, b) {
                    prop_assert_eq!(a.to_string(), b.to_string());
                    break;
                }
                prop_assert_eq!((fast.line, fast.since_newline), (slow.line, slow.since_newline));
            }
        }
    }
}
