//! Parquet through Arrow, one record batch at a time: string columns are
//! shown value by value and rewritten; other columns are shown as text and
//! passed through unchanged (a replacement for one is an error, since it
//! would change the column's type).

use crate::{Cell, Error, Tracker, Visitor};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// Parquet files start and end with `PAR1`.
pub fn is_parquet(path: &Path) -> std::io::Result<bool> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len < 12 {
        return Ok(false);
    }
    let mut head = [0u8; 4];
    f.read_exact(&mut head)?;
    let mut tail = [0u8; 4];
    f.seek(SeekFrom::End(-4))?;
    f.read_exact(&mut tail)?;
    Ok(&head == b"PAR1" && &tail == b"PAR1")
}

fn text_of(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    arrow_cast_display(array, row)
}

/// A non-string value as text (numbers, dates), for scanning only.
fn arrow_cast_display(array: &dyn Array, row: usize) -> Option<String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
    Some(match array.data_type() {
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        _ => return None,
    })
}

pub fn process(
    path: &Path,
    tracker: &mut Tracker,
    visitor: &mut dyn Visitor,
    out: Option<&mut (dyn Write + Send)>,
) -> Result<(), Error> {
    let bad = |message: String| Error::Unsupported {
        path: path.display().to_string(),
        message,
    };
    let file = File::open(path).map_err(|e| tracker.io(e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(format!("not readable as Parquet: {e}")))?;
    let compression = builder
        .metadata()
        .row_groups()
        .first()
        .and_then(|g| g.columns().first())
        .map(|c| c.compression())
        .unwrap_or(parquet::basic::Compression::SNAPPY);
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(4096)
        .build()
        .map_err(|e| bad(format!("not readable as Parquet: {e}")))?;
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
        let batch = batch.map_err(|e| bad(format!("not readable as Parquet: {e}")))?;
        let first = tracker.summary.records;
        let mut columns: Vec<ArrayRef> = Vec::new();
        for ((array, name), &k) in batch.columns().iter().zip(&names).zip(&keep) {
            let new = column(array, name, first, visitor).map_err(&bad)?;
            if k {
                columns.push(new.unwrap_or_else(|| array.clone()));
            }
        }
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

/// A string column (32- or 64-bit offsets) shown value by value; the
/// rewritten column if any value was replaced.
fn strings<O: arrow_array::OffsetSizeTrait>(
    array: &ArrayRef,
    show: &mut dyn FnMut(usize, &str, &mut dyn Visitor) -> Option<String>,
    visitor: &mut dyn Visitor,
) -> Option<ArrayRef> {
    use arrow_array::cast::AsArray;
    let a = array.as_string::<O>();
    let mut changed = false;
    let out: arrow_array::GenericStringArray<O> = (0..a.len())
        .map(|i| {
            (!a.is_null(i)).then(|| match show(i, a.value(i), visitor) {
                Some(new) => {
                    changed = true;
                    new
                }
                None => a.value(i).to_string(),
            })
        })
        .collect();
    changed.then(|| Arc::new(out) as ArrayRef)
}

/// Shows a column's values; returns the rewritten column if any value
/// was replaced.
fn column(
    array: &ArrayRef,
    name: &str,
    first: u64,
    visitor: &mut dyn Visitor,
) -> Result<Option<ArrayRef>, String> {
    let mut show = |row: usize, value: &str, visitor: &mut dyn Visitor| {
        let n = first + row as u64 + 1;
        visitor.cell(&Cell {
            record: n,
            line: n,
            column: name,
            value,
        })
    };
    match array.data_type() {
        DataType::Utf8 => Ok(strings::<i32>(array, &mut show, visitor)),
        DataType::LargeUtf8 => Ok(strings::<i64>(array, &mut show, visitor)),
        other => {
            for i in 0..array.len() {
                if let Some(text) = text_of(array.as_ref(), i) {
                    if show(i, &text, visitor).is_some() {
                        return Err(format!(
                            "column {name} is {other}: replacing its values would change its type; drop the column or cast it to a string first"
                        ));
                    }
                }
            }
            Ok(None)
        }
    }
}
