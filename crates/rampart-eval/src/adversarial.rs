//! `--emit-adversarial out.parquet`: the successful adversarial examples
//! as rows of the evaluation dataset, ready to be mixed into training.
//!
//! Each row is the original record with its feature columns replaced by
//! the adversarial values; every other column (the true label, the
//! sensitive features, the rest) keeps the record's own value. Two
//! columns are added: `source_row`, the line the record starts on in the
//! data (its row number for Parquet), and `attack`, the attack that made
//! it. Columns are typed by their values: whole numbers as Int64, other
//! numbers as Float64, anything else as text (empty as null).

use crate::{Error, Evaluation};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Collects every cell of the records wanted.
struct Records {
    wanted: HashMap<u64, BTreeMap<String, String>>,
}

impl rampart_table::Visitor for Records {
    fn cell(&mut self, cell: &rampart_table::Cell) -> Option<String> {
        if let Some(r) = self.wanted.get_mut(&cell.record) {
            r.insert(cell.column.to_string(), cell.value.to_string());
        }
        None
    }
}

/// Writes the adversarial rows of every attack in `e` to `out`
/// (atomically: whole or absent); returns how many were written.
pub fn write(e: &Evaluation, reading: &rampart_table::Options, out: &Path) -> Result<usize, Error> {
    let examples: Vec<(&str, &crate::attack::Example)> = e
        .robustness
        .iter()
        .flat_map(|r| r.examples.iter().map(move |x| (r.attack.name(), x)))
        .collect();
    let mut records = Records {
        wanted: examples
            .iter()
            .map(|(_, x)| (x.row as u64 + 1, BTreeMap::new()))
            .collect(),
    };
    let source = rampart_table::detect(&e.data.path)?;
    let summary = rampart_table::process(&source, reading, &mut records, None)?;
    let now = crate::file_sha256(&e.data.path)?;
    if now != e.data.sha256 {
        return Err(Error::Data(format!(
            "{} changed after it was evaluated (SHA-256 {} then {now}): its rows are not the ones attacked; evaluate again",
            e.data.path.display(),
            e.data.sha256
        )));
    }
    let mut columns: Vec<String> = summary.columns.clone();
    columns.dedup();
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); columns.len()];
    let mut source_rows = Vec::new();
    let mut attacks = Vec::new();
    for (attack, x) in &examples {
        let record = records.wanted.get(&(x.row as u64 + 1));
        for (c, name) in columns.iter().enumerate() {
            let value = match e.features.iter().position(|f| f == name) {
                Some(j) => x.x.get(j).map(|v| number(*v)),
                None => record.and_then(|r| r.get(name)).cloned(),
            };
            if let Some(col) = cells.get_mut(c) {
                col.push(value.filter(|v| !v.is_empty()));
            }
        }
        source_rows.push(x.line);
        attacks.push(attack.to_string());
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, values) in columns.iter().zip(&cells) {
        let (field, array) = typed(name, values);
        fields.push(field);
        arrays.push(array);
    }
    fields.push(Field::new("source_row", DataType::UInt64, false));
    arrays.push(Arc::new(UInt64Array::from(source_rows)));
    fields.push(Field::new("attack", DataType::Utf8, false));
    arrays.push(Arc::new(StringArray::from(attacks)));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|err| Error::Data(format!("cannot assemble the adversarial rows: {err}")))?;
    crate::predictions::write_batch(&batch, out)?;
    Ok(examples.len())
}

/// A feature value as text: whole numbers without a fraction.
fn number(v: f32) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A column typed by its values.
fn typed(name: &str, values: &[Option<String>]) -> (Field, ArrayRef) {
    let present = || values.iter().flatten();
    if present().next().is_none() {
        // No value to type by (no rows, or all empty): text, which any
        // column can be read as.
        let a: StringArray = values.iter().map(|v| v.as_deref()).collect();
        return (Field::new(name, DataType::Utf8, true), Arc::new(a));
    }
    if present().all(|v| v.trim().parse::<i64>().is_ok()) {
        let a: Int64Array = values
            .iter()
            .map(|v| v.as_ref().and_then(|s| s.trim().parse().ok()))
            .collect();
        return (Field::new(name, DataType::Int64, true), Arc::new(a));
    }
    if present().all(|v| v.trim().parse::<f64>().is_ok()) {
        let a: Float64Array = values
            .iter()
            .map(|v| v.as_ref().and_then(|s| s.trim().parse().ok()))
            .collect();
        return (Field::new(name, DataType::Float64, true), Arc::new(a));
    }
    let a: StringArray = values.iter().map(|v| v.as_deref()).collect();
    (Field::new(name, DataType::Utf8, true), Arc::new(a))
}
