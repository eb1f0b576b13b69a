//! An evaluation dataset read into what a model takes: a matrix of
//! features, and the label and grouping columns as codes.
//!
//! Any format the dataset reader knows (CSV/TSV, JSON Lines, JSON,
//! Parquet; gzip or zstd) is read in one pass. A feature value that is
//! empty or not a finite number, or a mapped column a record lacks, is an
//! error naming the record and column: a row the model never saw would
//! leave the evaluation silently smaller.

use crate::Error;
use std::collections::HashMap;
use std::path::Path;

/// Which columns play which part.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// Feature columns, in the model's input order (empty: every column
    /// of the first record that is not the label or a grouping column).
    pub features: Vec<String>,
    /// The truth (None: predictions only).
    pub label: Option<String>,
    /// Columns read as categories and kept out of the implicit
    /// features (sensitive features).
    pub groups: Vec<String>,
    /// Columns read as categories too, features or not (slices).
    pub slices: Vec<String>,
}

impl Mapping {
    /// Every column read as categories, once each.
    fn coded(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.groups.iter().chain(&self.slices) {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }
}

/// The distinct values of a column and each row's.
#[derive(Debug, Clone, Default)]
pub struct Codes {
    pub name: String,
    /// Distinct values, by first appearance.
    pub values: Vec<String>,
    /// Per row, its value's index.
    pub of_row: Vec<u32>,
    index: HashMap<String, u32>,
    /// Codes of values met as numbers (Parquet batches), by their bits.
    numbers: HashMap<u64, u32>,
}

impl Codes {
    fn new(name: &str) -> Codes {
        Codes {
            name: name.to_string(),
            ..Codes::default()
        }
    }

    /// The code of a value, given one when first met.
    fn code(&mut self, value: &str) -> u32 {
        let next = self.values.len() as u32;
        match self.index.get(value) {
            Some(&c) => c,
            None => {
                self.index.insert(value.to_string(), next);
                self.values.push(value.to_string());
                next
            }
        }
    }

    /// The code of a number, named as its cell would show it.
    fn number_code(&mut self, value: f64, integer: bool) -> u32 {
        if let Some(&c) = self.numbers.get(&value.to_bits()) {
            return c;
        }
        let c = self.code(&number_text(value, integer));
        self.numbers.insert(value.to_bits(), c);
        c
    }

    fn set_code(&mut self, row: usize, code: u32) {
        if self.of_row.len() <= row {
            self.of_row.resize(row + 1, u32::MAX);
        }
        if let Some(slot) = self.of_row.get_mut(row) {
            *slot = code;
        }
    }

    fn set(&mut self, row: usize, value: &str) {
        let code = self.code(value);
        self.set_code(row, code);
    }

    /// Each row's value.
    pub fn value(&self, row: usize) -> Option<&str> {
        let code = *self.of_row.get(row)?;
        self.values.get(code as usize).map(String::as_str)
    }
}

/// A dataset as the model takes it.
#[derive(Debug, Clone)]
pub struct Table {
    pub rows: usize,
    pub features: Vec<String>,
    /// rows × features, row-major.
    pub x: Vec<f32>,
    pub label: Option<Codes>,
    /// The sensitive features' and slices' codes, by name.
    pub groups: Vec<Codes>,
    /// Per row, the line it starts on (the row number for Parquet).
    pub lines: Vec<u64>,
    /// Every column of the file, in order.
    pub columns: Vec<String>,
    /// Records left unread under `--bad-input skip` (counted, attested).
    pub skipped: u64,
}

/// Errors kept while reading, reported once the read is done.
const MAX_PROBLEMS: usize = 5;

struct Collect<'a> {
    mapping: &'a Mapping,
    /// Resolved feature positions by name (None until the first record
    /// is complete when the features are implicit).
    features: Option<HashMap<String, usize>>,
    width: usize,
    /// The first record's cells (column, value, line), kept until the
    /// features are known.
    first: Vec<(String, String, u64)>,
    x: Vec<f32>,
    label: Option<Codes>,
    groups: Vec<Codes>,
    lines: Vec<u64>,
    rows: usize,
    problems: Vec<String>,
    bad: u64,
    /// Whether columnar files hand whole batches over (the features are
    /// known before the read).
    batches: bool,
}

impl Collect<'_> {
    /// Makes room for the rows `start..start + n` of a batch (Parquet:
    /// each row's line is its record number).
    fn cover(&mut self, start: usize, n: usize) {
        let end = start + n;
        if self.lines.len() < end {
            self.lines.resize(end, 0);
            self.rows = self.rows.max(end);
        }
        for (i, l) in self.lines.iter_mut().enumerate().skip(start).take(n) {
            *l = i as u64 + 1;
        }
        if self.x.len() < end * self.width {
            self.x.resize(end * self.width, f32::NAN);
        }
    }

    /// The feature position of a column, if it is one.
    fn feature(&self, column: &str) -> Option<usize> {
        self.features.as_ref().and_then(|f| f.get(column)).copied()
    }

    /// Whether a column plays a part (feature, label, group).
    fn wanted(&self, column: &str) -> bool {
        self.feature(column).is_some()
            || self.label.as_ref().is_some_and(|l| l.name == column)
            || self.groups.iter().any(|g| g.name == column)
    }

    /// The coded columns (label, groups) named `column`.
    fn coded<'s>(&'s mut self, column: &'s str) -> impl Iterator<Item = &'s mut Codes> + 's {
        self.label
            .iter_mut()
            .chain(self.groups.iter_mut())
            .filter(move |c| c.name == column)
    }

    /// Sets a feature of a batch's row, or counts the value as a problem
    /// (shown as `text`) when it is not a finite number.
    fn set_feature(&mut self, row: usize, k: usize, value: Option<f32>, text: impl Fn() -> String) {
        match value.filter(|v| v.is_finite()) {
            Some(v) => {
                if let Some(slot) = self.x.get_mut(row * self.width + k) {
                    *slot = v;
                }
            }
            None => {
                let column = self.column_name(k);
                self.problem(format!(
                    "line {}, column {column}: {} is not a finite number",
                    row + 1,
                    text()
                ));
            }
        }
    }

    fn column_name(&self, k: usize) -> String {
        self.features
            .iter()
            .flatten()
            .find(|(_, &i)| i == k)
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    }

    /// Resolves the features from the first record's columns (or the
    /// mapping), then replays the first record's cells.
    fn resolve(&mut self) {
        if self.features.is_some() {
            return;
        }
        self.resolve_names();
        for (column, value, line) in std::mem::take(&mut self.first) {
            self.put(1, line, &column, &value);
        }
    }

    fn resolve_names(&mut self) {
        if self.features.is_some() {
            return;
        }
        let names: Vec<String> = if self.mapping.features.is_empty() {
            let taken: Vec<&String> = self
                .mapping
                .label
                .iter()
                .chain(&self.mapping.groups)
                .collect();
            self.first
                .iter()
                .map(|(c, _, _)| c.clone())
                .filter(|c| !taken.contains(&c))
                .collect()
        } else {
            self.mapping.features.clone()
        };
        self.width = names.len();
        self.features = Some(names.into_iter().enumerate().map(|(i, n)| (n, i)).collect());
    }

    fn problem(&mut self, message: String) {
        self.bad += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(message);
        }
    }

    fn put(&mut self, record: u64, line: u64, column: &str, value: &str) {
        let row = (record - 1) as usize;
        if self.lines.len() <= row {
            self.lines.resize(row + 1, 0);
            self.rows = row + 1;
        }
        if let Some(l) = self.lines.get_mut(row) {
            if *l == 0 {
                *l = line;
            }
        }
        let feature = self.features.as_ref().and_then(|f| f.get(column)).copied();
        if let Some(k) = feature {
            let need = (row + 1) * self.width;
            if self.x.len() < need {
                self.x.resize(need, f32::NAN);
            }
            match parse(value) {
                Some(v) => {
                    if let Some(slot) = self.x.get_mut(row * self.width + k) {
                        *slot = v;
                    }
                }
                None => {
                    let line = self.lines.get(row).copied().unwrap_or(line);
                    self.problem(format!(
                        "line {line}, column {column}: {value:?} is not a finite number"
                    ));
                }
            }
        }
        if self.mapping.label.as_deref() == Some(column) {
            if let Some(l) = self.label.as_mut() {
                l.set(row, value);
            }
        }
        for g in self.groups.iter_mut().filter(|g| g.name == column) {
            g.set(row, value);
        }
    }
}

/// A number's text as a Parquet cell shows it (integers without a
/// point; floats in their shortest form, as `f32` when they are one), so
/// that a label or group reads the same from batches as from cells.
fn number_text(value: f64, integer: bool) -> String {
    if integer {
        format!("{}", value as i64)
    } else if f64::from(value as f32) == value {
        (value as f32).to_string()
    } else {
        value.to_string()
    }
}

/// A feature's value: a finite number (empty, `nan` and `inf` are not).
fn parse(value: &str) -> Option<f32> {
    let v: f64 = value.trim().parse().ok()?;
    let v = v as f32;
    v.is_finite().then_some(v)
}

impl rampart_table::Visitor for Collect<'_> {
    fn cell(&mut self, cell: &rampart_table::Cell) -> Option<String> {
        if cell.record == 0 {
            return None;
        }
        if self.features.is_none() {
            if cell.record == 1 {
                self.first
                    .push((cell.column.to_string(), cell.value.to_string(), cell.line));
                return None;
            }
            self.resolve();
        }
        self.put(cell.record, cell.line, cell.column, cell.value);
        None
    }

    fn takes_batches(&self) -> bool {
        self.batches
    }

    fn numbers(&mut self, column: &str, b: &rampart_table::Numbers) {
        let start = b.first.saturating_sub(1) as usize;
        self.cover(start, b.values.len() + b.nulls as usize);
        if b.nulls > 0 {
            // The batch is refused whole (its rows stay without a
            // value), each null named.
            if self.wanted(column) {
                for &r in b.null_rows {
                    self.problem(format!(
                        "line {}, column {column}: empty",
                        b.first + u64::from(r)
                    ));
                }
            }
            return;
        }
        if let Some(k) = self.feature(column) {
            for (i, &v) in b.values.iter().enumerate() {
                self.set_feature(start + i, k, Some(v as f32), || v.to_string());
            }
        }
        for codes in self.coded(column) {
            for (i, &v) in b.values.iter().enumerate() {
                let code = codes.number_code(v, b.integer);
                codes.set_code(start + i, code);
            }
        }
    }

    fn texts(&mut self, column: &str, b: &rampart_table::Texts) {
        let start = b.first.saturating_sub(1) as usize;
        self.cover(start, b.rows.len());
        if let Some(k) = self.feature(column) {
            let parsed: Vec<Option<f32>> = b.values.iter().map(|(v, _)| parse(v)).collect();
            for (i, at) in b.rows.iter().enumerate() {
                let value = at.and_then(|a| parsed.get(a as usize).copied().flatten());
                let text = at.and_then(|a| b.values.get(a as usize)).map(|(v, _)| *v);
                self.set_feature(start + i, k, value, || format!("{:?}", text.unwrap_or("")));
            }
        }
        for codes in self.coded(column) {
            let mine: Vec<u32> = b.values.iter().map(|(v, _)| codes.code(v)).collect();
            for (i, at) in b.rows.iter().enumerate() {
                // A null keeps the row without a value: named below.
                if let Some(&code) = at.and_then(|a| mine.get(a as usize)) {
                    codes.set_code(start + i, code);
                }
            }
        }
    }

    fn nulls(&mut self, column: &str, count: u64) {
        if self.wanted(column) {
            self.problem(format!("column {column}: {count} empty values"));
        }
    }

    fn verdict(&self) -> Result<(), String> {
        if self.bad == 0 {
            return Ok(());
        }
        Err(format!(
            "{} values are empty or not finite numbers ({}); the model takes a number for every feature of every row: fill or drop those rows, encode categories before export, or leave the column out of --features",
            self.bad,
            self.problems.join("; ")
        ))
    }
}

/// Reads `path` into a [`Table`] by `mapping`.
pub fn read(
    path: &Path,
    mapping: &Mapping,
    options: &rampart_table::Options,
) -> Result<Table, Error> {
    let source = rampart_table::detect(path)?;
    let mut c = Collect {
        mapping,
        features: None,
        width: 0,
        first: Vec::new(),
        x: Vec::new(),
        label: mapping.label.as_deref().map(Codes::new),
        groups: mapping.coded().iter().map(|g| Codes::new(g)).collect(),
        lines: Vec::new(),
        rows: 0,
        problems: Vec::new(),
        bad: 0,
        batches: false,
    };
    // Parquet hands its columns over in batches, without text made of
    // each number; the features are then resolved from its schema.
    if let Some(columns) = rampart_table::parquet_columns(&source)? {
        c.first = columns
            .into_iter()
            .map(|col| (col.name, String::new(), 1))
            .collect();
        c.batches = true;
    }
    if !mapping.features.is_empty() || c.batches {
        c.resolve_names();
        c.first.clear();
    }
    let summary = rampart_table::process(&source, options, &mut c, None)?;
    c.resolve();
    let shown = path.display();
    let mut features: Vec<(usize, String)> = c
        .features
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|(n, i)| (i, n))
        .collect();
    features.sort();
    let features: Vec<String> = features.into_iter().map(|(_, n)| n).collect();
    let coded = mapping.coded();
    let wanted = features.iter().chain(&mapping.label).chain(&coded);
    let twice: Vec<&String> = wanted
        .clone()
        .filter(|n| summary.columns.iter().filter(|c| c == n).count() > 1)
        .collect();
    if let Some(n) = twice.first() {
        return Err(Error::Data(format!(
            "{shown}: the column {n:?} appears more than once in the header: which one is meant cannot be told; rename one"
        )));
    }
    if let Some(n) = features
        .iter()
        .find(|f| features.iter().filter(|g| g == f).count() > 1)
    {
        return Err(Error::Data(format!("--features names {n:?} twice")));
    }
    let absent: Vec<&String> = wanted.filter(|n| !summary.columns.contains(n)).collect();
    if !absent.is_empty() {
        return Err(Error::Data(format!(
            "{shown}: no column {} (the columns are {})",
            absent
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            summary.columns.join(", ")
        )));
    }
    if features.is_empty() {
        return Err(Error::Data(format!(
            "{shown}: no feature columns (every column is the label or a group)"
        )));
    }
    let rows = c.rows;
    c.x.resize(rows * c.width, f32::NAN);
    if let Some(i) = c.x.iter().position(|v| v.is_nan()) {
        let row = i / c.width.max(1);
        let column = features
            .get(i % c.width.max(1))
            .cloned()
            .unwrap_or_default();
        let line = c.lines.get(row).copied().unwrap_or(0);
        return Err(Error::Data(format!(
            "{shown}: line {line} has no value for the feature {column:?}"
        )));
    }
    for codes in c.label.iter().chain(&c.groups) {
        if codes.of_row.len() < rows || codes.of_row.contains(&u32::MAX) {
            let row = codes
                .of_row
                .iter()
                .position(|&v| v == u32::MAX)
                .unwrap_or(codes.of_row.len());
            let line = c.lines.get(row).copied().unwrap_or(0);
            return Err(Error::Data(format!(
                "{shown}: line {line} has no value for {:?}",
                codes.name
            )));
        }
    }
    Ok(Table {
        rows,
        features,
        x: c.x,
        label: c.label,
        groups: c.groups,
        lines: c.lines,
        columns: summary.columns,
        skipped: summary.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::TempPath {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.into_temp_path()
    }

    #[test]
    fn implicit_features_are_the_other_columns() {
        let f = file("a,sex,b,y\n1,F,2.5,yes\n3,M,4,no\n");
        let m = Mapping {
            label: Some("y".into()),
            groups: vec!["sex".into()],
            ..Mapping::default()
        };
        let t = read(&f, &m, &Default::default()).unwrap();
        assert_eq!(t.features, vec!["a", "b"]);
        assert_eq!(t.x, vec![1.0, 2.5, 3.0, 4.0]);
        assert_eq!(t.label.as_ref().unwrap().value(1), Some("no"));
        assert_eq!(t.groups[0].value(0), Some("F"));
        assert_eq!(t.lines, vec![2, 3]);
    }

    #[test]
    fn explicit_features_keep_their_order() {
        let f = file("a,b,c\n1,2,3\n");
        let m = Mapping {
            features: vec!["c".into(), "a".into()],
            ..Mapping::default()
        };
        let t = read(&f, &m, &Default::default()).unwrap();
        assert_eq!(t.x, vec![3.0, 1.0]);
    }

    #[test]
    fn bad_values_and_columns_are_named() {
        let f = file("a,b\n1,2\n,3\nx,nan\n");
        let m = Mapping::default();
        let e = read(&f, &m, &Default::default()).unwrap_err().to_string();
        assert!(
            e.contains("3 values are empty or not finite numbers"),
            "{e}"
        );
        assert!(e.contains("line 3, column a"), "{e}");
        let f = file("a,b\n1,2\n");
        let m = Mapping {
            features: vec!["a".into(), "z".into()],
            ..Mapping::default()
        };
        let e = read(&f, &m, &Default::default()).unwrap_err().to_string();
        assert!(e.contains("no column \"z\" (the columns are a, b)"), "{e}");
    }

    /// Writes columns as Parquet (several batches: more rows than one).
    fn parquet(columns: Vec<(&str, arrow_array::ArrayRef)>) -> tempfile::TempPath {
        use arrow_array::RecordBatch;
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut f = tempfile::Builder::new()
            .suffix(".parquet")
            .tempfile()
            .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        f.into_temp_path()
    }

    /// Parquet is read a batch at a time without text; it must give the
    /// table its cells would (as CSV of the same values does).
    #[test]
    fn parquet_batches_read_as_their_cells_would() {
        use arrow_array::{
            ArrayRef, DictionaryArray, Float32Array, Float64Array, Int64Array, StringArray,
        };
        use std::sync::Arc;
        let n = 40_000usize;
        let a: Vec<f32> = (0..n).map(|i| (i as f32) * 0.25 - 7.5).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 8.0).collect();
        let y: Vec<i64> = (0..n).map(|i| (i % 3) as i64).collect();
        let sex: Vec<&str> = (0..n).map(|i| if i % 5 == 0 { "F" } else { "M" }).collect();
        let race: Vec<&str> = (0..n).map(|i| ["w", "b", "a"][i % 3 * (i % 2)]).collect();
        let weight: Vec<f32> = (0..n).map(|i| if i % 2 == 0 { 0.5 } else { 1.0 }).collect();
        let p = parquet(vec![
            ("a", Arc::new(Float32Array::from(a.clone())) as ArrayRef),
            ("sex", Arc::new(StringArray::from(sex.clone())) as ArrayRef),
            ("b", Arc::new(Float64Array::from(b.clone())) as ArrayRef),
            ("y", Arc::new(Int64Array::from(y.clone())) as ArrayRef),
            (
                "race",
                Arc::new(
                    race.iter()
                        .copied()
                        .collect::<DictionaryArray<arrow_array::types::Int8Type>>(),
                ) as ArrayRef,
            ),
            (
                "w",
                Arc::new(Float32Array::from(weight.clone())) as ArrayRef,
            ),
        ]);
        let mut csv = String::from("a,sex,b,y,race,w\n");
        for i in 0..n {
            csv.push_str(&format!(
                "{},{},{},{},{},{}\n",
                a[i], sex[i], b[i], y[i], race[i], weight[i]
            ));
        }
        let c = file(&csv);
        let m = Mapping {
            label: Some("y".into()),
            groups: vec!["sex".into(), "race".into()],
            slices: vec!["w".into()],
            ..Mapping::default()
        };
        let from_parquet = read(&p, &m, &Default::default()).unwrap();
        let from_csv = read(&c, &m, &Default::default()).unwrap();
        assert_eq!(from_parquet.rows, n);
        assert_eq!(from_parquet.features, vec!["a", "b", "w"]);
        assert_eq!(from_parquet.features, from_csv.features);
        assert_eq!(from_parquet.x, from_csv.x);
        let values = |t: &Table, which: usize| -> Vec<String> {
            let codes = if which == 0 {
                t.label.as_ref().unwrap()
            } else {
                &t.groups[which - 1]
            };
            (0..t.rows)
                .map(|r| codes.value(r).unwrap().to_string())
                .collect()
        };
        for which in 0..4 {
            assert_eq!(
                values(&from_parquet, which),
                values(&from_csv, which),
                "{which}"
            );
        }
        assert_eq!(from_parquet.groups[2].values, vec!["0.5", "1"]);
        assert_eq!(from_parquet.lines, (1..=n as u64).collect::<Vec<_>>());
    }

    #[test]
    fn parquet_nulls_and_non_numbers_are_errors_naming_the_column() {
        use arrow_array::{ArrayRef, Float64Array, StringArray};
        use std::sync::Arc;
        let p = parquet(vec![
            (
                "a",
                Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(StringArray::from(vec!["p", "q", "p"])) as ArrayRef,
            ),
        ]);
        let m = Mapping {
            label: Some("y".into()),
            ..Mapping::default()
        };
        let e = read(&p, &m, &Default::default()).unwrap_err().to_string();
        assert!(e.contains("line 2, column a: empty"), "{e}");
        let p = parquet(vec![
            (
                "a",
                Arc::new(StringArray::from(vec!["1.5", "x", "2"])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(Float64Array::from(vec![1.0, f64::INFINITY, 0.0])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(StringArray::from(vec![Some("p"), None, Some("p")])) as ArrayRef,
            ),
        ]);
        let e = read(&p, &m, &Default::default()).unwrap_err().to_string();
        assert!(
            e.contains("line 2, column a: \"x\" is not a finite number"),
            "{e}"
        );
        assert!(
            e.contains("line 2, column b: inf is not a finite number"),
            "{e}"
        );
        let p = parquet(vec![
            (
                "a",
                Arc::new(StringArray::from(vec!["1.5", "-2"])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(StringArray::from(vec![Some("p"), None])) as ArrayRef,
            ),
        ]);
        let e = read(&p, &m, &Default::default()).unwrap_err().to_string();
        assert!(e.contains("line 2 has no value for \"y\""), "{e}");
    }

    #[test]
    fn a_record_without_a_mapped_value_is_an_error() {
        let mut f = tempfile::Builder::new()
            .suffix(".jsonl")
            .tempfile()
            .unwrap();
        f.write_all(b"{\"a\": 1, \"y\": 0}\n{\"a\": 2}\n").unwrap();
        let f = f.into_temp_path();
        let m = Mapping {
            label: Some("y".into()),
            ..Mapping::default()
        };
        let e = read(&f, &m, &Default::default()).unwrap_err().to_string();
        assert!(e.contains("line 2 has no value for \"y\""), "{e}");
    }
}
