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
}

impl Codes {
    fn new(name: &str) -> Codes {
        Codes {
            name: name.to_string(),
            ..Codes::default()
        }
    }

    fn set(&mut self, row: usize, value: &str) {
        let next = self.values.len() as u32;
        let code = match self.index.get(value) {
            Some(&c) => c,
            None => {
                self.index.insert(value.to_string(), next);
                self.values.push(value.to_string());
                next
            }
        };
        if self.of_row.len() <= row {
            self.of_row.resize(row + 1, u32::MAX);
        }
        if let Some(slot) = self.of_row.get_mut(row) {
            *slot = code;
        }
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
}

impl Collect<'_> {
    fn resolve(&mut self) {
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
        for (column, value, line) in std::mem::take(&mut self.first) {
            self.put(1, line, &column, &value);
        }
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

    fn verdict(&self) -> Result<(), String> {
        if self.bad == 0 {
            return Ok(());
        }
        Err(format!(
            "{} feature values are not numbers ({}); the model takes numbers only: encode categories before export, or drop the column with --features",
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
    };
    if !mapping.features.is_empty() {
        c.resolve();
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
        assert!(e.contains("3 feature values are not numbers"), "{e}");
        assert!(e.contains("line 3, column a"), "{e}");
        let f = file("a,b\n1,2\n");
        let m = Mapping {
            features: vec!["a".into(), "z".into()],
            ..Mapping::default()
        };
        let e = read(&f, &m, &Default::default()).unwrap_err().to_string();
        assert!(e.contains("no column \"z\" (the columns are a, b)"), "{e}");
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
