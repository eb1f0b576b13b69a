//! Parquet through Arrow, one record batch at a time: string columns are
//! shown value by value and rewritten; numbers and booleans are shown as
//! text and passed through unchanged (a replacement for one is an error,
//! since it would change the column's type). To a visitor that takes
//! batches, numbers are handed over as a batch of `f64` and strings as
//! their distinct values with counts. Other types (dates, nested columns)
//! are not shown. A projection reads only some columns, so that several
//! threads can each read their own.

use crate::{Cell, Error, Numbers, Texts, Tracker, Visitor};
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// Parquet files start and end with `PAR1`.
pub fn is_parquet(path: &Path) -> std::io::Result<bool> {
    // The leading magic alone decides: a truncated or corrupt Parquet file
    // (no footer magic) must fail as Parquet, never be read as text.
    let mut f = File::open(path)?;
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match f.read(head.get_mut(n..).unwrap_or(&mut []))? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n == 4 && &head == b"PAR1")
}

/// Nesting followed when formatting a nested value.
const MAX_NESTING: usize = 64;

/// A value of any type but a plain string as text, for scanning: numbers
/// and booleans as Rust writes them, binary as (lossy) UTF-8, since text
/// is often stored as bytes, lists as `[a, b]`, structs as `{name: a}`,
/// maps as `{key: value}`, dates and timestamps in ISO 8601, decimals at
/// their scale. A type not formatted is an error: a column is never
/// passed over unread (before, lists, structs, binary, dates and
/// decimals were, so personal data in them passed every gate).
fn text_of(a: &dyn Array, row: usize, depth: usize) -> Result<Option<String>, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_schema::TimeUnit;
    if depth > MAX_NESTING {
        return Err(format!(
            "a value nested more than {MAX_NESTING} levels deep"
        ));
    }
    if row >= a.len() || a.is_null(row) {
        return Ok(None);
    }
    if let Some(s) = arrow_cast_display(a, row) {
        return Ok(Some(s));
    }
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let items = |list: &dyn Array| -> Result<String, String> {
        let parts = (0..list.len())
            .map(|i| Ok(text_of(list, i, depth + 1)?.unwrap_or_else(|| "null".into())))
            .collect::<Result<Vec<String>, String>>()?;
        Ok(format!("[{}]", parts.join(", ")))
    };
    let date = |d: Option<String>, raw: String| d.unwrap_or(raw);
    let text = match a.data_type() {
        DataType::Null => return Ok(None),
        DataType::Utf8 => a.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => a.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => a.as_string_view().value(row).to_string(),
        DataType::Binary => lossy(a.as_binary::<i32>().value(row)),
        DataType::LargeBinary => lossy(a.as_binary::<i64>().value(row)),
        DataType::BinaryView => lossy(a.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => lossy(a.as_fixed_size_binary().value(row)),
        DataType::Float16 => a.as_primitive::<Float16Type>().value(row).to_string(),
        DataType::Date32 => {
            let d = a.as_primitive::<Date32Type>();
            date(
                d.value_as_date(row).map(|v| v.to_string()),
                d.value(row).to_string(),
            )
        }
        DataType::Date64 => {
            let d = a.as_primitive::<Date64Type>();
            date(
                d.value_as_date(row).map(|v| v.to_string()),
                d.value(row).to_string(),
            )
        }
        DataType::Timestamp(unit, _) => {
            let (t, raw) = match unit {
                TimeUnit::Second => {
                    let t = a.as_primitive::<TimestampSecondType>();
                    (t.value_as_datetime(row), t.value(row))
                }
                TimeUnit::Millisecond => {
                    let t = a.as_primitive::<TimestampMillisecondType>();
                    (t.value_as_datetime(row), t.value(row))
                }
                TimeUnit::Microsecond => {
                    let t = a.as_primitive::<TimestampMicrosecondType>();
                    (t.value_as_datetime(row), t.value(row))
                }
                TimeUnit::Nanosecond => {
                    let t = a.as_primitive::<TimestampNanosecondType>();
                    (t.value_as_datetime(row), t.value(row))
                }
            };
            date(t.map(|v| v.to_string()), raw.to_string())
        }
        DataType::Time32(TimeUnit::Second) => {
            a.as_primitive::<Time32SecondType>().value(row).to_string()
        }
        DataType::Time32(_) => a
            .as_primitive::<Time32MillisecondType>()
            .value(row)
            .to_string(),
        DataType::Time64(TimeUnit::Microsecond) => a
            .as_primitive::<Time64MicrosecondType>()
            .value(row)
            .to_string(),
        DataType::Time64(_) => a
            .as_primitive::<Time64NanosecondType>()
            .value(row)
            .to_string(),
        DataType::Duration(unit) => {
            let (v, suffix) = match unit {
                TimeUnit::Second => (a.as_primitive::<DurationSecondType>().value(row), "s"),
                TimeUnit::Millisecond => {
                    (a.as_primitive::<DurationMillisecondType>().value(row), "ms")
                }
                TimeUnit::Microsecond => {
                    (a.as_primitive::<DurationMicrosecondType>().value(row), "us")
                }
                TimeUnit::Nanosecond => {
                    (a.as_primitive::<DurationNanosecondType>().value(row), "ns")
                }
            };
            format!("{v}{suffix}")
        }
        DataType::Decimal128(..) => a.as_primitive::<Decimal128Type>().value_as_string(row),
        DataType::Decimal256(..) => a.as_primitive::<Decimal256Type>().value_as_string(row),
        DataType::List(_) => items(a.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => items(a.as_list::<i64>().value(row).as_ref())?,
        DataType::FixedSizeList(..) => items(a.as_fixed_size_list().value(row).as_ref())?,
        DataType::Struct(fields) => {
            let parts = fields
                .iter()
                .zip(a.as_struct().columns())
                .map(|(f, c)| {
                    let v = text_of(c.as_ref(), row, depth + 1)?;
                    Ok(format!(
                        "{}: {}",
                        f.name(),
                        v.unwrap_or_else(|| "null".into())
                    ))
                })
                .collect::<Result<Vec<String>, String>>()?;
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Map(..) => {
            let entries = a.as_map().value(row);
            let parts = (0..entries.len())
                .map(|i| {
                    let part = |c: &ArrayRef| -> Result<String, String> {
                        Ok(text_of(c.as_ref(), i, depth + 1)?.unwrap_or_else(|| "null".into()))
                    };
                    let cols = entries.columns();
                    match (cols.first(), cols.get(1)) {
                        (Some(k), Some(v)) => Ok(format!("{}: {}", part(k)?, part(v)?)),
                        _ => Err("a map whose entries are not key and value".to_string()),
                    }
                })
                .collect::<Result<Vec<String>, String>>()?;
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            let key = arrow_cast_display(d.keys(), row)
                .and_then(|k| k.parse::<usize>().ok())
                .ok_or("a dictionary key out of range")?;
            return text_of(d.values().as_ref(), key, depth + 1);
        }
        other => return Err(format!("values of type {other} cannot be read as text")),
    };
    Ok(Some(text))
}

/// A non-string value as text (numbers, booleans), for scanning only.
fn arrow_cast_display(array: &dyn Array, row: usize) -> Option<String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    let a = array;
    Some(match a.data_type() {
        DataType::Boolean => a.as_boolean().value(row).to_string(),
        DataType::Int8 => a.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => a.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => a.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => a.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => a.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => a.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float32 => a.as_primitive::<Float32Type>().value(row).to_string(),
        DataType::Float64 => a.as_primitive::<Float64Type>().value(row).to_string(),
        _ => return None,
    })
}

/// A numeric column's non-null values as `f64`, and whether they are
/// integers; None for other types.
fn numbers_of(array: &dyn Array) -> Option<(bool, Vec<f64>)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::{ArrowPrimitiveType, PrimitiveArray};
    fn each<T: ArrowPrimitiveType>(
        a: &PrimitiveArray<T>,
        f: impl Fn(T::Native) -> f64,
    ) -> Vec<f64> {
        if a.null_count() == 0 {
            a.values().iter().map(|&v| f(v)).collect()
        } else {
            a.iter().flatten().map(f).collect()
        }
    }
    let a = array;
    Some(match a.data_type() {
        DataType::Int8 => (true, each(a.as_primitive::<Int8Type>(), f64::from)),
        DataType::Int16 => (true, each(a.as_primitive::<Int16Type>(), f64::from)),
        DataType::Int32 => (true, each(a.as_primitive::<Int32Type>(), f64::from)),
        DataType::Int64 => (true, each(a.as_primitive::<Int64Type>(), |v| v as f64)),
        DataType::UInt8 => (true, each(a.as_primitive::<UInt8Type>(), f64::from)),
        DataType::UInt16 => (true, each(a.as_primitive::<UInt16Type>(), f64::from)),
        DataType::UInt32 => (true, each(a.as_primitive::<UInt32Type>(), f64::from)),
        DataType::UInt64 => (true, each(a.as_primitive::<UInt64Type>(), |v| v as f64)),
        DataType::Float32 => (false, each(a.as_primitive::<Float32Type>(), f64::from)),
        DataType::Float64 => (false, each(a.as_primitive::<Float64Type>(), |v| v)),
        _ => return None,
    })
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Unsupported {
        path: path.display().to_string(),
        message: explain(&e.to_string()),
    }
}

/// The reader's error as the user's message: a codec this build leaves
/// out (Brotli, LZ4) is named with what to do instead.
fn explain(error: &str) -> String {
    const DISABLED: &str = "Disabled feature at compile time: ";
    match error.split_once(DISABLED) {
        Some((_, codec)) => format!(
            "compressed with {codec}, which Rampart does not read (it reads uncompressed, Snappy, gzip and zstd pages); rewrite the file with one of those, e.g. pyarrow.parquet.write_table(table, path, compression=\"zstd\")"
        ),
        None => format!("not readable as Parquet: {error}"),
    }
}

/// A Parquet file as the parquet crate reads it, with two guards against
/// hostile files: a read again after the end of the file is an error (the
/// crate's Thrift skipping otherwise reads the end once for every element
/// a corrupt list claims, up to 2^32 times: a hang the fuzz target found),
/// and a range past the end is refused before a buffer is made for it.
struct GuardedFile {
    file: File,
    len: u64,
}

impl GuardedFile {
    fn open(path: &Path) -> std::io::Result<GuardedFile> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(GuardedFile { file, len })
    }
}

impl parquet::file::reader::Length for GuardedFile {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A reader that fails when read again after it gave the end of its input.
struct EndGuard<R> {
    inner: R,
    ended: bool,
}

impl<R: Read> Read for EndGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ended && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read past the end of the file (a malformed page header)",
            ));
        }
        let n = self.inner.read(buf)?;
        self.ended = n == 0 && !buf.is_empty();
        Ok(n)
    }
}

impl parquet::file::reader::ChunkReader for GuardedFile {
    type T = EndGuard<std::io::BufReader<File>>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(EndGuard {
            inner: std::io::BufReader::new(file),
            ended: false,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        if start.saturating_add(length as u64) > self.len {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start} run past the end of the file ({} bytes)",
                self.len
            )));
        }
        let buffer = crate::parquet_pages::ReadAt::read_at(self, start, length)?;
        if buffer.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start}: the file ended after {}",
                buffer.len()
            )));
        }
        Ok(buffer.into())
    }
}

impl crate::parquet_pages::ReadAt for GuardedFile {
    /// Reads into spare capacity (no zeroing of what is then overwritten),
    /// sized to what the file holds from `start`.
    fn read_at(&self, start: u64, length: usize) -> std::io::Result<Vec<u8>> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        let there = usize::try_from(self.len.saturating_sub(start)).unwrap_or(usize::MAX);
        let mut buffer = Vec::with_capacity(length.min(there));
        file.take(length as u64).read_to_end(&mut buffer)?;
        Ok(buffer)
    }

    fn stream_at(&self, start: u64, length: u64) -> std::io::Result<Box<dyn Read + '_>> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(Box::new(std::io::BufReader::new(file.take(length))))
    }
}

/// The leaf columns (as the file's chunks number them) of the chosen
/// top-level columns.
fn leaves_of(schema: &parquet::schema::types::SchemaDescriptor, roots: &[usize]) -> Vec<usize> {
    (0..schema.num_columns())
        .filter(|&leaf| roots.contains(&schema.get_column_root_idx(leaf)))
        .collect()
}

/// Calls into the parquet and arrow crates, which panic on some malformed
/// files (found by the `parquet_reader` fuzz target: "Decoder for dict
/// should have been set" from a corrupt page, "offset + len out of
/// bounds" from corrupt definition levels); such a panic becomes an error
/// naming the file.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(unreadable(
            path,
            "a malformed footer or page (the Parquet reader failed on it)",
        ))
    })
}

pub fn columns(path: &Path) -> Result<Vec<crate::ColumnInfo>, Error> {
    let file = GuardedFile::open(path).map_err(|error| Error::Io {
        path: path.display().to_string(),
        error,
    })?;
    crate::parquet_pages::check_footer(&file, file.len).map_err(|e| unreadable(path, e))?;
    let builder = guarded(path, || {
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(path, e))
    })?;
    let mut bytes = vec![0u64; builder.schema().fields().len()];
    let leaves = builder.parquet_schema();
    for group in builder.metadata().row_groups() {
        for (leaf, chunk) in group.columns().iter().enumerate() {
            // The footer's chunks are checked against its schema when it
            // is read; this check keeps the lookup from asserting anyway.
            let root = (leaf < leaves.num_columns()).then(|| leaves.get_column_root_idx(leaf));
            if let Some(b) = root.and_then(|r| bytes.get_mut(r)) {
                let size = u64::try_from(chunk.uncompressed_size()).unwrap_or(0);
                *b = b.saturating_add(size);
            }
        }
    }
    Ok(builder
        .schema()
        .fields()
        .iter()
        .zip(bytes)
        .map(|(f, bytes)| crate::ColumnInfo {
            name: f.name().clone(),
            bytes,
        })
        .collect())
}

/// The schema to read a file with, when it differs from the file's own.
/// To a visitor that takes batches, string columns are read as
/// dictionaries with 32-bit codes, to be counted by code (Parquet writes
/// strings as dictionary pages, which are then kept as they are rather
/// than spelt out row by row). To one shown cells, dictionary columns
/// (pandas' categories) are read as plain strings, so that their values
/// are shown and can be replaced like any other string's.
fn read_schema(schema: &Schema, batches: bool) -> Option<Schema> {
    let string = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8);
    let codes = |t: &DataType| DataType::Dictionary(Box::new(DataType::Int32), Box::new(t.clone()));
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let to = match f.data_type() {
                t if batches && string(t) => Some(codes(t)),
                DataType::Dictionary(k, v) if batches && string(v) && **k != DataType::Int32 => {
                    Some(codes(v))
                }
                DataType::Dictionary(_, v) if !batches && string(v) => Some(v.as_ref().clone()),
                _ => None,
            };
            changed |= to.is_some();
            match to {
                Some(t) => f.as_ref().clone().with_data_type(t),
                None => f.as_ref().clone(),
            }
        })
        .collect();
    changed.then(|| Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A dictionary-coded string column's distinct values with their counts,
/// and its nulls; None for other arrays.
fn counted(array: &dyn Array) -> Option<Counted<'_>> {
    use arrow_array::cast::AsArray;
    let d = array.as_dictionary_opt::<arrow_array::types::Int32Type>()?;
    let values = d.values();
    match values.data_type() {
        DataType::Utf8 => Some(count_codes(d.keys(), values.as_string::<i32>())),
        DataType::LargeUtf8 => Some(count_codes(d.keys(), values.as_string::<i64>())),
        _ => None,
    }
}

/// A string column's batch: distinct values with their counts, nulls,
/// and each row's index among the values.
struct Counted<'a> {
    values: Vec<(&'a str, u64)>,
    nulls: u64,
    rows: Vec<Option<u32>>,
}

/// Counts each code of `keys` (densely when the dictionary is not much
/// larger than the batch, else by sorting the codes, so that a batch of a
/// column with a million-value dictionary does not zero a million
/// counters); codes out of range, and codes of null values, count as
/// nulls.
fn count_codes<'a, O: arrow_array::OffsetSizeTrait>(
    keys: &arrow_array::Int32Array,
    values: &'a arrow_array::GenericStringArray<O>,
) -> Counted<'a> {
    let mut nulls = keys.null_count() as u64;
    let codes = keys.iter().flatten();
    let mut runs: Vec<(usize, u64)> = Vec::new();
    if values.len() <= 4 * keys.len() {
        let mut counts = vec![0u64; values.len()];
        for k in codes {
            match usize::try_from(k).ok().and_then(|k| counts.get_mut(k)) {
                Some(c) => *c += 1,
                None => nulls += 1,
            }
        }
        runs.extend(counts.into_iter().enumerate().filter(|(_, n)| *n > 0));
    } else {
        let mut sorted: Vec<i32> = codes.collect();
        sorted.sort_unstable();
        for k in sorted {
            match (runs.last_mut(), usize::try_from(k)) {
                (Some((last, n)), Ok(k)) if *last == k => *n += 1,
                (_, Ok(k)) => runs.push((k, 1)),
                (_, Err(_)) => nulls += 1,
            }
        }
    }
    // `runs` is in key order: a row's index is found by its key.
    let mut out = Vec::with_capacity(runs.len());
    let mut index: Vec<(usize, u32)> = Vec::with_capacity(runs.len());
    for (k, n) in runs {
        if k < values.len() && values.is_valid(k) {
            index.push((k, out.len() as u32));
            out.push((values.value(k), n));
        } else {
            nulls += n;
        }
    }
    let rows = keys
        .iter()
        .map(|key| {
            let k = usize::try_from(key?).ok()?;
            let at = index.binary_search_by_key(&k, |(key, _)| *key).ok()?;
            index.get(at).map(|(_, i)| *i)
        })
        .collect();
    Counted {
        values: out,
        nulls,
        rows,
    }
}

/// Rows per batch: enough that a batch of a column amortises its
/// hand-over, few enough that 20 columns of them are a few MB.
const BATCH_ROWS: usize = 16 * 1024;

pub fn process(
    path: &Path,
    columns: Option<&[usize]>,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    // Every call into parquet and arrow is below, reading and writing.
    guarded(path, || read(path, columns, tracker, visitor, out))
}

fn read(
    path: &Path,
    columns: Option<&[usize]>,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let bad = |message: String| Error::Unsupported {
        path: path.display().to_string(),
        message,
    };
    let file = GuardedFile::open(path).map_err(|e| tracker.io(e))?;
    crate::parquet_pages::check_footer(&file, file.len).map_err(|e| unreadable(path, e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| unreadable(path, e))?;
    let meta = match read_schema(meta.schema(), visitor.takes_batches()) {
        // A schema the reader refuses leaves the file's own: strings are
        // then shown cell by cell, and dictionaries are read as below.
        Some(schema) => ArrowReaderMetadata::try_new(
            meta.metadata().clone(),
            ArrowReaderOptions::new().with_schema(Arc::new(schema)),
        )
        .unwrap_or(meta),
        None => meta,
    };
    // The pages to be read are checked before the crate decodes them.
    let leaves = columns.map(|roots| leaves_of(meta.parquet_schema(), roots));
    crate::parquet_pages::check(&file, meta.metadata(), leaves.as_deref())
        .map_err(|e| unreadable(path, e))?;
    let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta);
    if let Some(columns) = columns {
        let all = builder.schema().fields().len();
        if let Some(&c) = columns.iter().find(|&&c| c >= all) {
            return Err(bad(format!("has no column {c} (it has {all})")));
        }
        let mask = parquet::arrow::ProjectionMask::roots(
            builder.parquet_schema(),
            columns.iter().copied(),
        );
        builder = builder.with_projection(mask);
    }
    let compression = builder
        .metadata()
        .row_groups()
        .first()
        .and_then(|g| g.columns().first())
        .map(|c| c.compression())
        .unwrap_or(parquet::basic::Compression::SNAPPY);
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(path, e))?;
    let schema = reader.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    tracker.summary.columns = names.clone();
    let keep: Vec<bool> = names.iter().map(|n| visitor.keep_column(n)).collect();
    let kept_schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(f, _)| f.clone())
            .collect::<Vec<_>>(),
    ));
    let mut writer = match out {
        Some(w) => {
            let props = WriterProperties::builder()
                .set_compression(compression)
                .build();
            Some(
                ArrowWriter::try_new(w, kept_schema.clone(), Some(props))
                    .map_err(|e| Error::Write(std::io::Error::other(e.to_string())))?,
            )
        }
        None => None,
    };
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(path, e))?;
        let first = tracker.summary.records;
        let arrays = batch.columns();
        // Columns a batch visitor takes whole are not shown as cells.
        let mut shown = Vec::new();
        for (c, (array, name)) in arrays.iter().zip(&names).enumerate() {
            if !(visitor.takes_batches() && batched(array, name, first + 1, visitor)) {
                shown.push(c);
            }
        }
        let rewritten = show_rows(arrays, &names, &shown, first, visitor).map_err(&bad)?;
        let columns: Vec<ArrayRef> = arrays
            .iter()
            .zip(rewritten)
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|((array, new), _)| new.unwrap_or_else(|| array.clone()))
            .collect();
        tracker.summary.records += batch.num_rows() as u64;
        if let Some(w) = writer.as_mut() {
            let out = RecordBatch::try_new(kept_schema.clone(), columns)
                .map_err(|e| bad(e.to_string()))?;
            let rows = (first + 1..=tracker.summary.records).map(|r| Some(visitor.keep_record(r)));
            let rows = arrow_array::BooleanArray::from_iter(rows);
            let out = arrow_select::filter::filter_record_batch(&out, &rows)
                .map_err(|e| bad(e.to_string()))?;
            w.write(&out)
                .map_err(|e| Error::Write(std::io::Error::other(e.to_string())))?;
        }
    }
    if let Some(w) = writer {
        w.close()
            .map_err(|e| Error::Write(std::io::Error::other(e.to_string())))?;
    }
    Ok(())
}

/// A column's values as the text a cell shows: strings as they are,
/// other types (numbers, booleans) formatted.
enum CellTexts<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Other(&'a dyn Array),
}

impl<'a> CellTexts<'a> {
    fn of(array: &'a ArrayRef) -> CellTexts<'a> {
        use arrow_array::cast::AsArray;
        match array.data_type() {
            DataType::Utf8 => CellTexts::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => CellTexts::LargeUtf8(array.as_string::<i64>()),
            _ => CellTexts::Other(array.as_ref()),
        }
    }

    /// The text of `row` (below the array's length), or `None` for a
    /// null; an error for a type that cannot be read as text.
    fn text(&self, row: usize) -> Result<Option<std::borrow::Cow<'a, str>>, String> {
        use std::borrow::Cow;
        Ok(match self {
            CellTexts::Utf8(a) => (!a.is_null(row)).then(|| Cow::Borrowed(a.value(row))),
            CellTexts::LargeUtf8(a) => (!a.is_null(row)).then(|| Cow::Borrowed(a.value(row))),
            CellTexts::Other(a) => text_of(*a, row, 0)?.map(Cow::Owned),
        })
    }

    /// The column with `changes` (row, new value; in row order) made, for
    /// string columns; `None` for other types, whose values cannot be
    /// replaced without changing the column's type.
    fn rewritten(&self, changes: Vec<(usize, String)>) -> Option<ArrayRef> {
        fn apply<'v, A: FromIterator<Option<String>>>(
            values: impl Iterator<Item = Option<&'v str>>,
            changes: Vec<(usize, String)>,
        ) -> A {
            let mut changes = changes.into_iter().peekable();
            values
                .enumerate()
                .map(|(i, v)| match changes.next_if(|(row, _)| *row == i) {
                    Some((_, new)) => Some(new),
                    None => v.map(str::to_string),
                })
                .collect()
        }
        match self {
            CellTexts::Utf8(a) => Some(Arc::new(apply::<arrow_array::StringArray>(
                a.iter(),
                changes,
            ))),
            CellTexts::LargeUtf8(a) => Some(Arc::new(apply::<arrow_array::LargeStringArray>(
                a.iter(),
                changes,
            ))),
            CellTexts::Other(_) => None,
        }
    }
}

/// Hands a column to a visitor that takes batches, when its type allows
/// (numbers, strings): whether it did. The nulls of other shown columns
/// are reported here, their values then shown as cells.
fn batched(array: &ArrayRef, name: &str, first: u64, visitor: &mut dyn Visitor) -> bool {
    if let Some((integer, values)) = numbers_of(array.as_ref()) {
        let null_rows: Vec<u32> = match array.logical_nulls() {
            Some(n) if n.null_count() > 0 => n
                .iter()
                .enumerate()
                .filter(|(_, valid)| !valid)
                .map(|(i, _)| i as u32)
                .collect(),
            _ => Vec::new(),
        };
        let batch = Numbers {
            integer,
            values: &values,
            nulls: array.null_count() as u64,
            first,
            null_rows: &null_rows,
        };
        visitor.numbers(name, &batch);
        return true;
    }
    if let Some(c) = counted(array.as_ref()) {
        visitor.texts(
            name,
            &Texts {
                values: &c.values,
                nulls: c.nulls,
                first,
                rows: &c.rows,
            },
        );
        return true;
    }
    // Nulls of the columns whose values are shown as cells (every type
    // that is not taken as a batch).
    if array.null_count() > 0 {
        visitor.nulls(name, array.null_count() as u64);
    }
    false
}

/// Shows the values of the `shown` columns of a batch as cells, a row at
/// a time (every cell of a record before the next record's, as in the
/// text formats: visitors that assemble rows rely on it); returns each
/// column rewritten, where a value was replaced.
fn show_rows(
    arrays: &[ArrayRef],
    names: &[String],
    shown: &[usize],
    first: u64,
    visitor: &mut dyn Visitor,
) -> Result<Vec<Option<ArrayRef>>, String> {
    let columns: Vec<(usize, &str, CellTexts)> = shown
        .iter()
        .filter_map(|&c| Some((c, names.get(c)?.as_str(), CellTexts::of(arrays.get(c)?))))
        .collect();
    let mut out: Vec<Option<ArrayRef>> = vec![None; arrays.len()];
    if columns.is_empty() {
        // A batch visitor took every column: no row to walk.
        return Ok(out);
    }
    let rows = arrays.first().map_or(0, |a| a.len());
    // Replacements of each shown column, by row.
    let mut changes: Vec<Vec<(usize, String)>> = vec![Vec::new(); columns.len()];
    for row in 0..rows {
        let n = first + row as u64 + 1;
        for ((_, name, texts), changed) in columns.iter().zip(changes.iter_mut()) {
            // A null is shown as an empty value, as a CSV cell holds it:
            // checks of nulls (`not_null`) see Parquet's too.
            let text = texts.text(row).map_err(|e| format!("column {name}: {e}"))?;
            let null = text.is_none();
            let value = text.unwrap_or_default();
            let cell = Cell {
                record: n,
                line: n,
                column: name,
                value: &value,
            };
            // A null "replaced" by an empty value stays null.
            if let Some(new) = visitor.cell(&cell).filter(|new| !(null && new.is_empty())) {
                if let CellTexts::Other(a) = texts {
                    return Err(format!(
                        "column {name} is {}: replacing its values would change its type; drop the column or cast it to a string first",
                        a.data_type()
                    ));
                }
                changed.push((row, new));
            }
        }
    }
    for ((c, _, texts), changed) in columns.iter().zip(changes) {
        if let (false, Some(slot)) = (changed.is_empty(), out.get_mut(*c)) {
            *slot = texts.rewritten(changed);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_codec_left_out_is_named_with_what_to_do() {
        let m = super::explain(
            "Parquet argument error: Parquet error: Disabled feature at compile time: brotli",
        );
        assert!(
            m.starts_with("compressed with brotli, which Rampart does not read"),
            "{m}"
        );
        assert!(m.contains("compression=\"zstd\""), "{m}");
        let other = super::explain("EOF: file too small");
        assert_eq!(other, "not readable as Parquet: EOF: file too small");
    }
}
