//! Re-identification risk: k-anonymity over quasi-identifier columns and
//! l-diversity of a sensitive column.

use crate::{detect, require_columns, Error, Reading, Watch};
use rampart_table::{Cell, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub path: &'a Path,
    pub quasi: &'a [String],
    pub sensitive: Option<&'a str>,
    pub min_k: u64,
    pub min_l: u64,
    /// Most row numbers listed for classes under k.
    pub max_rows: usize,
}

/// The measurement: also the attestation's details, field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub file: String,
    pub rows: u64,
    pub quasi_identifiers: Vec<String>,
    pub classes: usize,
    /// The smallest class.
    pub k: u64,
    pub min_k: u64,
    pub classes_below_k: usize,
    pub rows_below_k: u64,
    pub share_below_k: f64,
    /// Line numbers of rows in classes under k (the first `max_rows`).
    pub rows_at_risk: Vec<u64>,
    pub sensitive: Option<String>,
    /// The fewest distinct sensitive values in a class.
    pub l: Option<u64>,
    pub min_l: Option<u64>,
    pub classes_below_l: Option<usize>,
    pub passed: bool,
    pub skipped: u64,
}

/// One equivalence class: rows sharing the quasi-identifier values.
#[derive(Default)]
struct Class {
    rows: u64,
    first_rows: Vec<u64>,
    sensitive: HashSet<String>,
}

/// Distinct sensitive values remembered per class (l is reported as at
/// least this many beyond it).
const MAX_DIVERSITY: usize = 64;

struct RiskVisitor<'a> {
    quasi: &'a [String],
    sensitive: Option<&'a str>,
    record: u64,
    line: u64,
    current: Vec<Option<String>>,
    current_sensitive: Option<String>,
    classes: HashMap<Vec<String>, Class>,
    seen: HashSet<String>,
    keep_rows: usize,
}

impl RiskVisitor<'_> {
    fn finish_record(&mut self) {
        if self.record == 0 {
            return;
        }
        let key: Vec<String> = self
            .current
            .iter_mut()
            .map(|v| v.take().unwrap_or_default())
            .collect();
        let class = self.classes.entry(key).or_default();
        class.rows += 1;
        if class.first_rows.len() < self.keep_rows {
            class.first_rows.push(self.line);
        }
        if let Some(s) = self.current_sensitive.take() {
            if class.sensitive.len() < MAX_DIVERSITY {
                class.sensitive.insert(s);
            }
        }
    }
}

impl Visitor for RiskVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if cell.record != self.record {
            self.finish_record();
            self.record = cell.record;
            self.line = cell.line;
        }
        if self.seen.len() < 10_000 {
            self.seen.insert(cell.column.to_string());
        }
        if let Some(i) = self.quasi.iter().position(|q| q == cell.column) {
            if let Some(slot) = self.current.get_mut(i) {
                *slot = Some(cell.value.to_string());
            }
        }
        if self.sensitive == Some(cell.column) {
            self.current_sensitive = Some(cell.value.to_string());
        }
        None
    }
}

/// Measures k and l of `q.path`.
pub fn measure(q: &Query, reading: &Reading, watch: &dyn Watch) -> Result<Report, Error> {
    if q.quasi.is_empty() {
        return Err(Error::invalid(
            "re-identification risk needs quasi-identifier columns (quasi = [\"column\", ...])",
        ));
    }
    let source = detect(q.path)?;
    let mut v = RiskVisitor {
        quasi: q.quasi,
        sensitive: q.sensitive,
        record: 0,
        line: 0,
        current: vec![None; q.quasi.len()],
        current_sensitive: None,
        classes: HashMap::new(),
        seen: HashSet::new(),
        // A class of k rows or more is not at risk: it never needs more
        // than k - 1 row numbers.
        keep_rows: q
            .max_rows
            .min(usize::try_from(q.min_k.saturating_sub(1)).unwrap_or(usize::MAX)),
    };
    let summary = reading.process(
        &source,
        &mut v,
        watch,
        &format!("reading {}", q.path.display()),
    )?;
    v.finish_record();
    let mut have = summary.columns.clone();
    for c in &v.seen {
        if !have.iter().any(|h| h == c) {
            have.push(c.to_string());
        }
    }
    require_columns(
        q.path,
        &have,
        q.quasi
            .iter()
            .map(|c| ("--quasi", c.as_str()))
            .chain(q.sensitive.map(|c| ("--sensitive", c))),
    )?;
    let rows: u64 = v.classes.values().map(|c| c.rows).sum();
    let k_min = v.classes.values().map(|c| c.rows).min().unwrap_or(0);
    let below: Vec<&Class> = v.classes.values().filter(|c| c.rows < q.min_k).collect();
    let rows_below: u64 = below.iter().map(|c| c.rows).sum();
    let mut at_risk: Vec<u64> = below
        .iter()
        .flat_map(|c| c.first_rows.iter().copied())
        .collect();
    at_risk.sort_unstable();
    at_risk.truncate(q.max_rows);
    let diversity = |c: &Class| c.sensitive.len() as u64;
    let l_min = q
        .sensitive
        .map(|_| v.classes.values().map(diversity).min().unwrap_or(0));
    let classes_below_l = q.sensitive.map(|_| {
        v.classes
            .values()
            .filter(|c| diversity(c) < q.min_l)
            .count()
    });
    let passed = k_min >= q.min_k && l_min.is_none_or(|l| l >= q.min_l);
    let share = if rows == 0 {
        0.0
    } else {
        rows_below as f64 / rows as f64
    };
    Ok(Report {
        file: q.path.display().to_string(),
        rows,
        quasi_identifiers: q.quasi.to_vec(),
        classes: v.classes.len(),
        k: k_min,
        min_k: q.min_k,
        classes_below_k: below.len(),
        rows_below_k: rows_below,
        share_below_k: share,
        rows_at_risk: at_risk,
        sensitive: q.sensitive.map(str::to_string),
        l: l_min,
        min_l: q.sensitive.map(|_| q.min_l),
        classes_below_l,
        passed,
        skipped: summary.skipped,
    })
}

impl Report {
    /// The measurement for people, ending PASS or FAIL.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} rows in {} classes over {}{}",
            self.file,
            self.rows,
            self.classes,
            self.quasi_identifiers.join(", "),
            crate::skipped_note(self.skipped)
        );
        let _ = writeln!(
            out,
            "k-anonymity: k = {} (minimum {}); {} classes and {} rows ({:.1}%) below it",
            self.k,
            self.min_k,
            self.classes_below_k,
            self.rows_below_k,
            self.share_below_k * 100.0
        );
        if let Some(s) = &self.sensitive {
            let _ = writeln!(
                out,
                "l-diversity of {s}: l = {} (minimum {}); {} classes below it",
                self.l.unwrap_or(0),
                self.min_l.unwrap_or(0),
                self.classes_below_l.unwrap_or(0)
            );
        }
        if !self.rows_at_risk.is_empty() {
            let list: Vec<String> = self.rows_at_risk.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "rows at risk (line numbers, first {}): {}",
                list.len(),
                list.join(", ")
            );
        }
        let _ = writeln!(out, "{}", if self.passed { "PASS" } else { "FAIL" });
        out
    }

    /// One line for a pipeline's table.
    pub fn summary(&self) -> String {
        format!(
            "k = {} (minimum {}), {} rows in classes below it{}",
            self.k,
            self.min_k,
            self.rows_below_k,
            match (&self.sensitive, self.l, self.min_l) {
                (Some(s), Some(l), Some(min_l)) => format!("; l = {l} for {s} (minimum {min_l})"),
                _ => String::new(),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure_csv(text: &str, quasi: &[&str], sensitive: Option<&str>) -> Result<Report, Error> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.csv");
        std::fs::write(&p, text).unwrap();
        let quasi: Vec<String> = quasi.iter().map(|s| s.to_string()).collect();
        let q = Query {
            path: &p,
            quasi: &quasi,
            sensitive,
            min_k: 2,
            min_l: 2,
            max_rows: 20,
        };
        measure(&q, &Reading::default(), &crate::Quiet)
    }

    #[test]
    fn the_smallest_class_is_k_and_its_rows_are_named() {
        let r = measure_csv(
            "age,zip,dx\n30,1,a\n30,1,b\n30,1,a\n41,2,c\n",
            &["age", "zip"],
            Some("dx"),
        )
        .unwrap();
        assert_eq!((r.rows, r.classes, r.k), (4, 2, 1));
        assert_eq!(r.rows_at_risk, [5]);
        assert_eq!(r.l, Some(1));
        assert_eq!(r.classes_below_l, Some(1));
        assert!(!r.passed);
        let ok = measure_csv("age,dx\n30,a\n30,b\n", &["age"], Some("dx")).unwrap();
        assert!(ok.passed && ok.k == 2 && ok.l == Some(2), "{ok:?}");
        assert!(ok.summary().contains("l = 2 for dx"));
    }

    #[test]
    fn a_missing_column_or_no_quasi_identifier_is_an_error() {
        let e = measure_csv("age\n1\n", &["agee"], None).unwrap_err();
        assert!(e.to_string().contains("--quasi \"agee\""), "{e}");
        assert!(measure_csv("age\n1\n", &[], None).is_err());
    }
}
