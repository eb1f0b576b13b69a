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
        Ok(n)
    }
}

pub fn process(
    reader: Box<dyn BufRead>,
    delimiter: u8,
    options: &Options,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let guarded = LineGuard {
        inner: reader,
        max: options.max_record,
        since_newline: 0,
        line: 0,
        quotes: 0,
        eof: false,
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
    let header: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let keep: Vec<bool> = header.iter().map(|h| visitor.keep_column(h)).collect();
    tracker.summary.columns = header.clone();
    let mut writer = out.map(|w| {
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(w)
    });
    let write_error = |e: csv::Error| Error::Write(std::io::Error::other(e.to_string()));
    if let Some(w) = writer.as_mut() {
        let kept = header
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| h);
        w.write_record(kept).map_err(write_error)?;
    }
    let mut values: Vec<String> = Vec::with_capacity(header.len());
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(tracker, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
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
            let end = rdr.position().line().saturating_sub(1);
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
        }
    }

    proptest! {
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
