//! Datasets as records of named values, read as a stream and, when an
//! output is given, rewritten value by value in the same format: CSV and
//! TSV (delimiter sniffed), JSON Lines, JSON (a top-level array is split
//! into its elements, so it streams too), Parquet, and plain text (each
//! line one value). Text formats may be gzip- or zstd-compressed.
//!
//! Every record is bounded ([`Options::max_record`]), JSON nesting is
//! bounded by serde_json's recursion limit, the decompressed size is
//! bounded ([`Options::max_bytes`]), and bad input (a malformed row,
//! invalid UTF-8, an over-long line, JSON that does not parse) is either
//! skipped and counted or fails the run, as [`BadInput`] says. A skipped
//! record is left out of the rewritten output too: nothing passes through
//! unread.

mod csv_format;
mod json;
mod parquet_format;
mod parquet_pages;
mod read;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

pub use encoding_rs::Encoding;
pub use read::Compression;

/// How the records of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Each line is one value, in a column with no name.
    Text,
    /// CSV with this delimiter; the first row names the columns.
    Delimited(u8),
    JsonLines,
    Json,
    Parquet,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Delimited(b'\t') => "tsv",
            Format::Delimited(_) => "csv",
            Format::JsonLines => "jsonl",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

pub use rampart_core::BadInput;

/// The rules the dataset readers emit, for `rampart rules`.
pub static RULES: &[rampart_core::Rule] = &[rampart_core::Rule {
    id: "DATA-UNREAD",
    name: "dataset-records-unread",
    default_severity: rampart_core::Severity::High,
    summary: "Records of a dataset could not be read: not UTF-8, a field count unlike the header's, a quote never closed, a line over 16 MiB, JSON that does not parse or nests too deep.",
    description: "A gate that skipped records did not check them: personal data, poisoned rows or drift in them would pass unseen. By default every data command reads on to the end, lists each such record by line, fails (exit 1) and writes no output; a pipeline's pii and risk gates are attested as failed, so admission refuses.",
    fix: "Repair or re-export the file (a legacy encoding is read with --encoding cp1252, utf-16le... as the message suggests). To accept reading only part of it, pass --bad-input skip (bad_input = \"skip\"): the skipped records are still counted in the report and the attestation.",
    references: &["OWASP ML02:2023 Data Poisoning Attack", "docs/fail-closed.md"],
}];

#[derive(Debug, Clone)]
pub struct Options {
    pub bad_input: BadInput,
    /// Longest line (text, CSV, JSON Lines) or JSON array element.
    pub max_record: usize,
    /// Most bytes read after decompression.
    pub max_bytes: u64,
    /// The text encoding of text formats, when it is not UTF-8: the
    /// bytes are decoded to UTF-8 as they are read (a byte-order mark,
    /// when present, wins). Parquet strings are always UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Parquet only: read just the top-level columns at these positions
    /// (a columnar file can be read column by column on several threads);
    /// the other formats are always read whole. Not for rewriting.
    pub columns: Option<Vec<usize>>,
    /// Told the file's size, then each read of its (compressed) bytes:
    /// a progress bar in bytes and percent. Text formats only.
    pub progress: Option<ProgressHook>,
}

/// Where reading progress goes (see [`Options::progress`]).
#[derive(Clone)]
pub struct ProgressHook(pub std::sync::Arc<dyn rampart_core::Progress + Send>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bad_input: BadInput::Reject,
            max_record: 16 << 20,
            max_bytes: 1 << 40,
            encoding: None,
            columns: None,
            progress: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cause is part of the message, not a separate source, so that
    /// `anyhow`'s chain does not print it twice.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Bad {
        path: String,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Unsupported { path: String, message: String },
    /// Records that could not be read, under [`BadInput::Reject`]: the
    /// file was read to its end and every such record counted.
    #[error("{path}: {skipped} of {total} records could not be read ({}){}; fix the file, or pass --bad-input skip (bad_input = \"skip\") to accept reading only part of it", list_problems(problems), "")]
    Unread {
        path: String,
        skipped: u64,
        total: u64,
        problems: Vec<Problem>,
    },
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    /// The visitor refused what it saw ([`Visitor::verdict`]).
    #[error("{path}: {message}")]
    Refused { path: String, message: String },
}

/// One value, where it was, and the column it is in.
#[derive(Debug)]
pub struct Cell<'a> {
    /// 1-based record number (data rows; a CSV header is not a record).
    pub record: u64,
    /// 1-based line where the record starts (the row number for Parquet).
    pub line: u64,
    /// The column name; JSON values are named by their path (`a.b[].c`);
    /// text lines have the empty name.
    pub column: &'a str,
    pub value: &'a str,
}

/// Sees every value; returns a replacement when rewriting.
pub trait Visitor {
    fn cell(&mut self, cell: &Cell) -> Option<String>;
    /// Sees each name of a CSV header row as a value in a column with no
    /// name, record 0: a file without a header holds data there (and a
    /// one-line file nothing else), so the gates that look for personal
    /// data scan it, and a rewrite may replace it. Statistics ignore it.
    fn header(&mut self, _name: &Cell) -> Option<String> {
        None
    }
    /// Whether a column is kept in the rewritten output.
    fn keep_column(&self, _column: &str) -> bool {
        true
    }
    /// Whether a record (numbered from 1, as in [`Cell::record`]) is kept
    /// in the rewritten output, asked once all its cells were visited: a
    /// filter drops the rows that findings name.
    fn keep_record(&self, _record: u64) -> bool {
        true
    }
    /// Called once every record was read: an error here fails the read
    /// (and so the rewrite, before anything is written), for visitors
    /// that met values they must not pass on, such as a token that does
    /// not authenticate.
    fn verdict(&self) -> Result<(), String> {
        Ok(())
    }
    /// Whether columnar formats (Parquet) may hand a column to the visitor
    /// a batch at a time instead of showing each value as a cell: numeric
    /// columns to [`Visitor::numbers`] (no text is made of the numbers),
    /// string columns to [`Visitor::texts`] (each distinct value once,
    /// with its count), the nulls of others to [`Visitor::nulls`]. A
    /// visitor that says yes implements all three; one that needs row
    /// numbers or rewrites values says no.
    fn takes_batches(&self) -> bool {
        false
    }
    /// One batch of a numeric column, when [`Visitor::takes_batches`].
    fn numbers(&mut self, _column: &str, _batch: &Numbers) {}
    /// One batch of a string column, when [`Visitor::takes_batches`].
    fn texts(&mut self, _column: &str, _batch: &Texts) {}
    /// The nulls of one batch of a column of another type (booleans,
    /// say: shown as cells, but null cells have no text), when
    /// [`Visitor::takes_batches`].
    fn nulls(&mut self, _column: &str, _count: u64) {}
}

/// One batch of a numeric column, from a columnar format.
#[derive(Debug)]
pub struct Numbers<'a> {
    /// Whether the column holds integers (converted to `f64`, so that
    /// those past 2^53 are rounded, as their text would be when parsed).
    pub integer: bool,
    /// The non-null values, in row order: when `nulls` is 0, the value
    /// of record `first + i` is `values[i]`.
    pub values: &'a [f64],
    /// Nulls in the batch.
    pub nulls: u64,
    /// The record number ([`Cell::record`]) of the batch's first row.
    pub first: u64,
    /// The rows of the batch (from 0) that are null, in order: empty when
    /// `nulls` is 0.
    pub null_rows: &'a [u32],
}

/// One batch of a string column, from a columnar format: each distinct
/// value with the number of rows that hold it (a dictionary-encoded
/// column is counted by its codes, without a string made per row).
#[derive(Debug)]
pub struct Texts<'a> {
    /// Distinct non-null values and their counts (each at least 1), in
    /// no particular order.
    pub values: &'a [(&'a str, u64)],
    /// Nulls in the batch.
    pub nulls: u64,
    /// The record number ([`Cell::record`]) of the batch's first row.
    pub first: u64,
    /// Each row's value in row order, as its index in `values` (`None`:
    /// null), for visitors that assemble rows.
    pub rows: &'a [Option<u32>],
}

/// A record that was skipped or a value that could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

/// The first problems, for a message.
fn list_problems(problems: &[Problem]) -> String {
    let mut parts: Vec<String> = problems
        .iter()
        .take(5)
        .map(|p| format!("line {}: {}", p.line, p.message))
        .collect();
    if problems.len() > 5 {
        parts.push(format!("{} more listed", problems.len() - 5));
    }
    parts.join("; ")
}

/// Problems listed in a summary; all are counted.
const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Default)]
pub struct Summary {
    pub records: u64,
    pub skipped: u64,
    pub problems: Vec<Problem>,
    /// Column names in order (first JSON record's paths for JSON).
    pub columns: Vec<String>,
}

/// Records skipped or failed on, by the policy: shared by every format.
pub(crate) struct Tracker<'a> {
    pub path: &'a str,
    pub bad_input: BadInput,
    pub summary: Summary,
}

impl Tracker<'_> {
    /// A record that cannot be read: an error under [`BadInput::Fail`],
    /// otherwise counted and skipped.
    pub fn bad(&mut self, line: u64, message: String) -> Result<(), Error> {
        if self.bad_input == BadInput::Fail {
            return Err(Error::Bad {
                path: self.path.to_string(),
                line,
                message: format!("{message} (set bad_input = \"skip\" to skip such records)"),
            });
        }
        self.summary.skipped += 1;
        if self.summary.problems.len() < MAX_PROBLEMS {
            self.summary.problems.push(Problem { line, message });
        }
        Ok(())
    }

    /// The summary, or the visitor's refusal, or under
    /// [`BadInput::Reject`] the error naming the records that could not
    /// be read.
    pub fn finish(self, visitor: &dyn Visitor) -> Result<Summary, Error> {
        if let Err(message) = visitor.verdict() {
            return Err(Error::Refused {
                path: self.path.to_string(),
                message,
            });
        }
        // Under reject, skipped records are named by the error below.
        let named_below = self.bad_input == BadInput::Reject && self.summary.skipped > 0;
        if self.summary.records == 0 && !named_below {
            return Err(Error::Unsupported {
                path: self.path.to_string(),
                message: if self.summary.skipped > 0 {
                    format!(
                        "all {} records were skipped: nothing was checked",
                        self.summary.skipped
                    )
                } else {
                    "no records (only a header, or an empty array): a gate over no records would check nothing".into()
                },
            });
        }
        if self.bad_input == BadInput::Reject && self.summary.skipped > 0 {
            return Err(Error::Unread {
                path: self.path.to_string(),
                skipped: self.summary.skipped,
                total: self.summary.skipped + self.summary.records,
                problems: self.summary.problems,
            });
        }
        Ok(self.summary)
    }

    pub fn io(&self, error: std::io::Error) -> Error {
        Error::Io {
            path: self.path.to_string(),
            error,
        }
    }
}

/// A file and how to read it.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub format: Format,
    pub compression: Compression,
}

/// Opens `path` and works out its compression and format from its bytes
/// (its name only breaks ties: `.tsv` for tabs, `.txt` for text).
pub fn detect(path: &Path) -> Result<Source, Error> {
    let display = path.display().to_string();
    let io = |error| Error::Io {
        path: display.clone(),
        error,
    };
    let compression = read::sniff_compression(path).map_err(io)?;
    if compression == Compression::None && parquet_format::is_parquet(path).map_err(io)? {
        return Ok(Source {
            path: path.to_path_buf(),
            format: Format::Parquet,
            compression,
        });
    }
    let mut reader = read::open(path, compression, u64::MAX).map_err(io)?;
    let head = read::head(&mut reader, 64 << 10).map_err(io)?;
    // A byte-order mark alone (or with line breaks, in UTF-16) is empty.
    let body = [&b"\xef\xbb\xbf"[..], b"\xff\xfe", b"\xfe\xff"]
        .iter()
        .find_map(|bom| head.strip_prefix(*bom))
        .unwrap_or(&head);
    if body.iter().all(|&b| b.is_ascii_whitespace() || b == 0) {
        return Err(Error::Unsupported {
            path: display,
            message: "the file is empty: a gate over no records would check nothing (was the export cut off?)".into(),
        });
    }
    if let Some(what) = read::binary(&head) {
        return Err(Error::Unsupported {
            path: display,
            message: format!(
                "this is {what}, not a dataset Rampart reads; export it as CSV, JSON Lines or Parquet"
            ),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    Ok(Source {
        path: path.to_path_buf(),
        format: sniff_format(&head, &name),
        compression,
    })
}

/// The format of a text file from its first bytes.
fn sniff_format(head: &[u8], name: &str) -> Format {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    let lines: Vec<&str> = text.lines().take(6).collect();
    if trimmed.starts_with('[') {
        return Format::Json;
    }
    if trimmed.starts_with('{') {
        let first = lines.first().copied().unwrap_or("");
        let is_object =
            serde_json::from_str::<serde_json::Value>(first).is_ok_and(|v| v.is_object());
        return if is_object && lines.len() > 1
            || name.ends_with(".jsonl")
            || name.ends_with(".ndjson")
        {
            Format::JsonLines
        } else {
            Format::Json
        };
    }
    if name.contains(".txt") || name.contains(".log") || name.contains(".md") {
        return Format::Text;
    }
    // A delimiter that appears (outside quotes) the same number of times,
    // at least once, on each of the first lines; the last line may be cut
    // short. The content decides before the name: a `.csv` export from a
    // European spreadsheet is split by `;` (its decimal commas vary from
    // line to line), and a `.csv` of tabs or pipes is common too.
    // Excel's hint line names the delimiter outright.
    if let Some(&[d]) = lines
        .first()
        .and_then(|l| l.trim_end().strip_prefix("sep="))
        .map(str::as_bytes)
    {
        return Format::Delimited(d);
    }
    // Records, not lines: a quoted line break does not end a record.
    let records = records(text, 6);
    let complete = if records.len() > 1 && !text.ends_with('\n') {
        records.get(..records.len() - 1).unwrap_or(&[])
    } else {
        &records[..]
    };
    let consistent = |d: u8| {
        let counts: Vec<usize> = complete.iter().map(|l| unquoted_count(l, d)).collect();
        counts
            .first()
            .is_some_and(|&first| first > 0 && counts.iter().all(|&c| c == first))
    };
    let named = if name.contains(".tsv") || name.contains(".tab") {
        Some(b'\t')
    } else if name.contains(".csv") {
        Some(b',')
    } else {
        None
    };
    if let Some(d) = named.filter(|&d| consistent(d)) {
        return Format::Delimited(d);
    }
    if let Some(d) = b",\t;|".iter().copied().find(|&d| consistent(d)) {
        return Format::Delimited(d);
    }
    if let Some(d) = named {
        return Format::Delimited(d);
    }
    Format::Text
}

/// The first `n` records of CSV text: split at line breaks outside
/// double quotes.
fn records(text: &str, n: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                out.push(text.get(start..i).unwrap_or("").trim_end_matches('\r'));
                start = i + 1;
                if out.len() == n {
                    return out;
                }
            }
            _ => {}
        }
    }
    if start < text.len() {
        out.push(text.get(start..).unwrap_or(""));
    }
    out
}

/// How many times `d` occurs in a line outside double quotes.
fn unquoted_count(line: &str, d: u8) -> usize {
    let mut quoted = false;
    line.bytes()
        .filter(|&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            b == d && !quoted
        })
        .count()
}

/// Reads every record of `source`, showing each value to `visitor`; with
/// `out`, writes the records again with the visitor's replacements and
/// without the columns it drops.
pub fn process(
    source: &Source,
    options: &Options,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<Summary, Error> {
    let path = source.path.display().to_string();
    let mut tracker = Tracker {
        path: &path,
        bad_input: options.bad_input,
        summary: Summary::default(),
    };
    if source.format == Format::Parquet {
        let columns = options.columns.as_deref();
        parquet_format::process(&source.path, columns, &mut tracker, visitor, out)?;
        return tracker.finish(visitor);
    }
    let reader = read::open_with(
        &source.path,
        source.compression,
        options.max_bytes,
        options.progress.as_ref(),
    )
    .map_err(|e| tracker.io(e))?;
    let reader = read::decode(reader, options.encoding).map_err(|e| tracker.io(e))?;
    match source.format {
        Format::Text => text(reader, options, &mut tracker, visitor, out)?,
        Format::Delimited(d) => {
            csv_format::process(reader, d, options, &mut tracker, visitor, out)?
        }
        Format::JsonLines => json::lines(reader, options, &mut tracker, visitor, out)?,
        Format::Json => json::document(reader, options, &mut tracker, visitor, out)?,
        Format::Parquet => {}
    }
    tracker.finish(visitor)
}

/// The names of a Parquet file's top-level columns, in order, without
/// reading its data; None for other formats.
pub fn parquet_columns(source: &Source) -> Result<Option<Vec<ColumnInfo>>, Error> {
    if source.format != Format::Parquet {
        return Ok(None);
    }
    parquet_format::columns(&source.path).map(Some)
}

/// A column of a columnar file, as its footer describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// Bytes of its values once decompressed, over all row groups, as
    /// the footer claims them (untrusted): a measure of the work of
    /// reading it, for sharing columns among threads.
    pub bytes: u64,
}

/// [`process`] over bytes in memory, for the text formats (tests and
/// fuzzing; Parquet needs a file).
pub fn process_bytes(
    format: Format,
    bytes: &[u8],
    options: &Options,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<Summary, Error> {
    let mut tracker = Tracker {
        path: "<memory>",
        bad_input: options.bad_input,
        summary: Summary::default(),
    };
    // The readers take owned boxes: copy the bytes.
    let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(bytes.to_vec()));
    let reader = read::decode(reader, options.encoding).map_err(|e| tracker.io(e))?;
    match format {
        Format::Text => text(reader, options, &mut tracker, visitor, out)?,
        Format::Delimited(d) => {
            csv_format::process(reader, d, options, &mut tracker, visitor, out)?
        }
        Format::JsonLines => json::lines(reader, options, &mut tracker, visitor, out)?,
        Format::Json => json::document(reader, options, &mut tracker, visitor, out)?,
        Format::Parquet => {
            return Err(Error::Unsupported {
                path: "<memory>".into(),
                message: "Parquet is read from files".into(),
            })
        }
    }
    tracker.finish(visitor)
}

/// Plain text: each line is a value.
fn text(
    mut reader: Box<dyn BufRead>,
    options: &Options,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    mut out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    tracker.summary.columns = vec![String::new()];
    let mut lines = read::Lines::new(options.max_record);
    while let Some(read::Line { no, bytes, ending }) = lines.next(&mut reader, tracker)? {
        let Ok(value) = std::str::from_utf8(bytes) else {
            tracker.bad(no, read::invalid_utf8(bytes))?;
            continue;
        };
        tracker.summary.records += 1;
        let cell = Cell {
            record: tracker.summary.records,
            line: no,
            column: "",
            value,
        };
        let replaced = visitor.cell(&cell);
        let kept = visitor.keep_record(tracker.summary.records);
        if let Some(w) = out.as_deref_mut().filter(|_| kept) {
            let text = replaced.as_deref().unwrap_or(value);
            w.write_all(text.as_bytes())
                .and_then(|()| w.write_all(ending))
                .map_err(Error::Write)?;
        }
    }
    Ok(())
}
