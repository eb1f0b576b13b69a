//! A dataset checked against expectations in one streaming pass.

use crate::{detect, require_columns, Error, Reading, Watch};
use rampart_profile::expect::{Expectations, Failure, Validator};
use rampart_table::{Cell, Visitor};
use serde::Serialize;
use std::path::Path;

/// What validation found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub rows: u64,
    pub skipped: u64,
    pub failures: Vec<Failure>,
    /// How many expectations were checked.
    #[serde(skip)]
    pub checked: usize,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Each failure with sample rows, then a summary line, for people.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for f in &self.failures {
            let rows: Vec<String> = f
                .rows
                .iter()
                .map(|(l, v)| format!("line {l}: {v}"))
                .collect();
            let _ = writeln!(
                out,
                "FAIL {}{}: {}{}",
                f.column
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                f.expectation,
                f.observed,
                if rows.is_empty() {
                    String::new()
                } else {
                    format!(" (e.g. {})", rows.join("; "))
                }
            );
        }
        let _ = writeln!(
            out,
            "{}: {} rows, {} expectations, {} failed{}",
            self.file,
            self.rows,
            self.checked,
            self.failures.len(),
            crate::skipped_note(self.skipped)
        );
        out
    }

    /// The attestation's details (the expectations file's digest is the
    /// front end's to add).
    pub fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "passed": self.passed(),
            "rows": self.rows,
            "skipped": self.skipped,
            "failed": self.failures.iter().map(|f| serde_json::json!({"column": f.column, "expectation": f.expectation, "failing_rows": f.failing_rows})).collect::<Vec<_>>(),
        })
    }
}

struct ValidateVisitor<'a> {
    validator: &'a mut Validator,
}

impl Visitor for ValidateVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let column = if cell.column.is_empty() {
            "text"
        } else {
            cell.column
        };
        self.validator
            .observe(cell.record, cell.line, column, cell.value);
        None
    }
}

/// Checks `path` against `expectations`. Failing values are shown masked
/// when their column is named like personal data or holds it (scored at
/// `threshold` or more).
pub fn validate(
    path: &Path,
    expectations: Expectations,
    threshold: f32,
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<Report, Error> {
    let checked = expectations.expect.len()
        + usize::from(expectations.rows.is_some())
        + usize::from(!expectations.columns.is_empty())
        + expectations.unique_together.len();
    let mask = Box::new(move |column: &str, value: &str| {
        crate::pii::shown_value(column, value, threshold)
    });
    let mut validator = Validator::new(expectations, mask);
    let source = detect(path)?;
    let summary = reading.process(
        &source,
        &mut ValidateVisitor {
            validator: &mut validator,
        },
        watch,
        &format!("validating {}", path.display()),
    )?;
    let mut have = summary.columns.clone();
    if have == [""] {
        have = vec!["text".into()];
    }
    let e = validator.expectations();
    require_columns(
        path,
        &have,
        // `columns = [...]` is itself an expectation (a missing column
        // fails validation); the others name columns to check.
        e.unique_together
            .iter()
            .flatten()
            .map(|c| ("unique_together names", c.as_str()))
            .chain(
                e.expect
                    .iter()
                    .map(|x| ("an [[expect]] names", x.column.as_str())),
            ),
    )?;
    Ok(Report {
        file: path.display().to_string(),
        rows: summary.records,
        skipped: summary.skipped,
        failures: validator.finish(summary.records),
        checked,
    })
}
