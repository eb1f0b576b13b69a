//! Writes small Parquet files of every column kind the reader shows, in
//! each compression and with and without dictionaries: the seeds of the
//! `parquet_reader` fuzz target (`fuzz/seed.sh` runs this).
//!
//!     cargo run -p rampart-table --example parquet_seeds -- DIR

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt8Array,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: parquet_seeds DIR")?;
    std::fs::create_dir_all(&dir)?;
    let rows = 40;
    let batch = RecordBatch::try_from_iter(vec![
        (
            "i",
            Arc::new(Int32Array::from_iter(
                (0..rows).map(|i| (i % 7 != 0).then_some(i)),
            )) as ArrayRef,
        ),
        (
            "l",
            Arc::new(Int64Array::from_iter_values(
                (0..rows).map(|i| i64::from(i) << 40),
            )) as ArrayRef,
        ),
        (
            "u",
            Arc::new(UInt8Array::from_iter_values((0..rows).map(|i| i as u8))),
        ),
        (
            "f",
            Arc::new(Float64Array::from_iter((0..rows).map(|i| match i % 9 {
                0 => None,
                1 => Some(f64::NAN),
                _ => Some(f64::from(i) * 0.37),
            }))),
        ),
        (
            "h",
            Arc::new(Float32Array::from_iter_values(
                (0..rows).map(|i| i as f32 / 3.0),
            )),
        ),
        (
            "b",
            Arc::new(BooleanArray::from_iter(
                (0..rows).map(|i| (i % 5 != 0).then_some(i % 2 == 0)),
            )),
        ),
        (
            "s",
            Arc::new(StringArray::from_iter((0..rows).map(|i| {
                (i % 4 != 0).then(|| {
                    ["Paris", "Lyon", "Nice"]
                        .get((i % 3) as usize)
                        .copied()
                        .unwrap_or("Paris")
                })
            }))),
        ),
    ])?;
    let variants = [
        ("snappy", Compression::SNAPPY, true),
        ("plain", Compression::UNCOMPRESSED, false),
        ("zstd", Compression::ZSTD(ZstdLevel::default()), true),
        ("gzip", Compression::GZIP(Default::default()), false),
    ];
    for (name, compression, dictionary) in variants {
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_dictionary_enabled(dictionary)
            .build();
        let file = std::fs::File::create(format!("{dir}/{name}.parquet"))?;
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
        // Three row groups: the batch, its first rows, its last rows.
        w.write(&batch)?;
        w.flush()?;
        w.write(&batch.slice(0, 16))?;
        w.flush()?;
        w.write(&batch.slice(24, 16))?;
        w.close()?;
    }
    Ok(())
}
