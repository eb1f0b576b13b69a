//! `--predictions out.parquet`: what the model said for every row, beside
//! the truth, for audits and for joining back to the data by line.

use crate::{Error, Evaluation, Predictions};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use std::path::Path;
use std::sync::Arc;

/// The columns: `line` (where the row starts in the data), `truth` and
/// `predicted` (label values for a classifier, numbers for a regressor)
/// and, for a classifier with probabilities, `proba_<class>` per class.
pub fn batch(e: &Evaluation) -> Result<RecordBatch, Error> {
    let p = e
        .predictions
        .as_ref()
        .ok_or_else(|| Error::Data("the evaluation kept no predictions".into()))?;
    let mut fields = vec![Field::new("line", DataType::UInt64, false)];
    let mut columns: Vec<ArrayRef> = Vec::new();
    match p {
        Predictions::Classes {
            truth,
            predicted,
            proba,
            lines,
        } => {
            columns.push(Arc::new(UInt64Array::from(lines.clone())));
            let name = |c: &u32| e.classes.get(*c as usize).cloned().unwrap_or_default();
            for (n, v) in [("truth", truth), ("predicted", predicted)] {
                fields.push(Field::new(n, DataType::Utf8, false));
                let values: Vec<String> = v.iter().map(name).collect();
                columns.push(Arc::new(StringArray::from(values)));
            }
            let k = e.classes.len();
            if !proba.is_empty() && k > 0 {
                for (j, class) in e.classes.iter().enumerate() {
                    fields.push(Field::new(
                        format!("proba_{class}"),
                        DataType::Float64,
                        false,
                    ));
                    let col: Vec<f64> = proba.iter().skip(j).step_by(k).copied().collect();
                    columns.push(Arc::new(Float64Array::from(col)));
                }
            }
        }
        Predictions::Values {
            truth,
            predicted,
            lines,
        } => {
            columns.push(Arc::new(UInt64Array::from(lines.clone())));
            for (n, v) in [("truth", truth), ("predicted", predicted)] {
                fields.push(Field::new(n, DataType::Float64, false));
                columns.push(Arc::new(Float64Array::from(v.clone())));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|err| Error::Data(format!("cannot assemble the predictions: {err}")))
}

/// Writes the predictions as Parquet (zstd), atomically: the file is
/// whole or absent.
pub fn write(e: &Evaluation, path: &Path) -> Result<(), Error> {
    write_batch(&batch(e)?, path)
}

/// Writes one batch as Parquet (zstd), atomically.
pub(crate) fn write_batch(batch: &RecordBatch, path: &Path) -> Result<(), Error> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let failed = |err: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source: err,
    };
    rampart_core::write_atomic_with(path, |w| {
        let mut writer = parquet::arrow::ArrowWriter::try_new(w, batch.schema(), Some(props))
            .map_err(std::io::Error::other)?;
        writer.write(batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
        Ok(())
    })
    .map_err(failed)
}
