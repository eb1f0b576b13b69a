//! Has the new version regressed? Two models on the same evaluation rows,
//! compared by the paired bootstrap, overall and per slice.
//!
//! A metric regressed when, with the confidence asked, the new model is
//! worse than the old by more than the margin: the upper end of the
//! interval of (new - old, oriented so that positive is better) is below
//! `-margin`. A drop inside the noise is not a regression; a drop that is
//! certain but smaller than the margin is not either.

use crate::bootstrap::Delta;
use crate::data::{Codes, Table};
use crate::evaluate::{load_model, read_data, score, Artifact, Options, Task};
use crate::metrics::Metric;
use crate::Error;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The metrics compared by default: those a better model improves.
/// Precision alone trades against recall, and a model that is better
/// overall may be less calibrated; name them with `metrics` to judge
/// them too.
pub const COMPARED: &[Metric] = &[
    Metric::Accuracy,
    Metric::BalancedAccuracy,
    Metric::F1Macro,
    Metric::RocAuc,
    Metric::AveragePrecision,
    Metric::LogLoss,
];

/// A comparison to make.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    pub new: PathBuf,
    pub old: PathBuf,
    /// The data, its mapping and the bootstrap (`model` is not read;
    /// `mapping.slices` are the columns to slice by).
    pub eval: Options,
    /// Metrics judged (empty: [`COMPARED`] for a classifier, every
    /// metric of a regressor).
    pub metrics: Vec<Metric>,
    /// Numeric slice columns cut into this many quantile bins.
    pub bins: Vec<(String, usize)>,
    /// How much worse counts as a regression.
    pub margin: f64,
    /// Slices with fewer rows are reported, not judged.
    pub min_slice: u64,
}

/// One slice's comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SliceComparison {
    pub column: String,
    /// The value, or the bin (`[30, 41)`).
    pub value: String,
    pub rows: usize,
    /// Fewer rows than the minimum: reported, not judged.
    pub small: bool,
    pub deltas: Vec<Judged>,
}

/// A metric's difference and whether it regressed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Judged {
    #[serde(flatten)]
    pub delta: Delta,
    pub regressed: bool,
}

/// What a comparison found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub new: Artifact,
    pub old: Artifact,
    pub data: Artifact,
    pub rows: usize,
    pub task: Task,
    pub margin: f64,
    pub bootstrap: crate::Bootstrap,
    pub overall: Vec<Judged>,
    pub slices: Vec<SliceComparison>,
    /// Where the new version regressed: `accuracy, roc_auc overall`,
    /// `f1_macro on sex=Female`, one entry per slice.
    pub regressed: Vec<String>,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.regressed.is_empty()
    }
}

/// Compares the two models on the data.
pub fn compare(o: &CompareOptions) -> Result<Comparison, Error> {
    if !(o.margin >= 0.0 && o.margin.is_finite()) {
        return Err(Error::Data(format!(
            "--margin {}: a difference of zero or more",
            o.margin
        )));
    }
    let (table, data) = read_data(&o.eval)?;
    let (new_model, old_model) = (load_model(&o.new)?, load_model(&o.old)?);
    let new_opts = Options {
        model: o.new.clone(),
        ..o.eval.clone()
    };
    let old_opts = Options {
        model: o.old.clone(),
        ..o.eval.clone()
    };
    let (new, new_classes) = score(&new_opts, &o.new, &new_model, &table)?;
    let (old, old_classes) = score(&old_opts, &o.old, &old_model, &table)?;
    if new.task() != old.task() || new_classes != old_classes {
        return Err(Error::Model(format!(
            "{} and {} do not do the same task ({:?} with classes [{}], {:?} with [{}]): compare versions of one model",
            o.new.display(),
            o.old.display(),
            new.task(),
            new_classes.join(", "),
            old.task(),
            old_classes.join(", ")
        )));
    }
    let wanted = |d: &Delta| match (o.metrics.is_empty(), new.task()) {
        (false, _) => o.metrics.contains(&d.metric),
        (true, Task::Classification) => COMPARED.contains(&d.metric),
        (true, _) => true,
    };
    let judge = |deltas: Vec<Delta>| -> Vec<Judged> {
        deltas
            .into_iter()
            .filter(wanted)
            .map(|delta| Judged {
                regressed: delta.high.is_some_and(|h| h < -o.margin),
                delta,
            })
            .collect()
    };
    let b = o.eval.bootstrap;
    let overall = judge(b.paired(table.rows, |w| new.metrics(w), |w| old.metrics(w)));
    let mut slices = Vec::new();
    for (column, value, rows) in slice_rows(o, &table)? {
        let small = (rows.len() as u64) < o.min_slice;
        let deltas = if small {
            Vec::new()
        } else {
            let (n, d) = (new.subset(&rows)?, old.subset(&rows)?);
            judge(b.paired(rows.len(), |w| n.metrics(w), |w| d.metrics(w)))
        };
        slices.push(SliceComparison {
            column,
            value,
            rows: rows.len(),
            small,
            deltas,
        });
    }
    let names = |js: &[Judged]| -> Option<String> {
        let n: Vec<&str> = js
            .iter()
            .filter(|j| j.regressed)
            .map(|j| j.delta.metric.name())
            .collect();
        (!n.is_empty()).then(|| n.join(", "))
    };
    let regressed: Vec<String> =
        names(&overall)
            .map(|n| format!("{n} overall"))
            .into_iter()
            .chain(slices.iter().filter_map(|s| {
                names(&s.deltas).map(|n| format!("{n} on {}={}", s.column, s.value))
            }))
            .collect();
    Ok(Comparison {
        new: Artifact {
            path: o.new.clone(),
            sha256: new_model.sha256.clone(),
        },
        old: Artifact {
            path: o.old.clone(),
            sha256: old_model.sha256.clone(),
        },
        data,
        rows: table.rows,
        task: new.task(),
        margin: o.margin,
        bootstrap: b,
        overall,
        slices,
        regressed,
    })
}

/// Each slice: its column, its value or bin, and its rows.
fn slice_rows(o: &CompareOptions, table: &Table) -> Result<Vec<(String, String, Vec<u32>)>, Error> {
    let mut out = Vec::new();
    for column in &o.eval.mapping.slices {
        let codes = coded(table, column)?;
        let binned = o.bins.iter().find(|(c, _)| c == column).map(|(_, k)| *k);
        match binned {
            None => {
                for (k, value) in codes.values.iter().enumerate() {
                    let rows = rows_where(codes, |c| c as usize == k);
                    out.push((column.clone(), value.clone(), rows));
                }
            }
            Some(bins) => out.extend(quantile_bins(o, table, codes, bins)?),
        }
    }
    Ok(out)
}

fn coded<'a>(table: &'a Table, column: &str) -> Result<&'a Codes, Error> {
    table
        .groups
        .iter()
        .find(|g| g.name == column)
        .ok_or_else(|| Error::Data(format!("no slice column {column:?}")))
}

fn rows_where(codes: &Codes, f: impl Fn(u32) -> bool) -> Vec<u32> {
    codes
        .of_row
        .iter()
        .enumerate()
        .filter(|(_, &c)| f(c))
        .map(|(i, _)| i as u32)
        .collect()
}

/// A numeric column cut at its quantiles into at most `bins` bins
/// (fewer when values repeat); every value must be a number.
fn quantile_bins(
    o: &CompareOptions,
    table: &Table,
    codes: &Codes,
    bins: usize,
) -> Result<Vec<(String, String, Vec<u32>)>, Error> {
    let column = &codes.name;
    let mut numbers = Vec::with_capacity(codes.values.len());
    for v in &codes.values {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => numbers.push(x),
            _ => {
                let row = codes
                    .of_row
                    .iter()
                    .position(|&c| codes.values.get(c as usize) == Some(v))
                    .unwrap_or(0);
                let line = table.lines.get(row).copied().unwrap_or(0);
                return Err(Error::Data(format!(
                    "{}: line {line}: {column} = {v:?} is not a number, so it cannot be binned (slice it by its values instead)",
                    o.eval.data.display()
                )));
            }
        }
    }
    let mut per_row: Vec<f64> = codes
        .of_row
        .iter()
        .map(|&c| numbers.get(c as usize).copied().unwrap_or(f64::NAN))
        .collect();
    let value_of = per_row.clone();
    per_row.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..bins.max(1))
        .filter_map(|k| crate::bootstrap::percentile(&per_row, k as f64 / bins as f64))
        .collect();
    edges.dedup();
    let (lo, hi) = (
        per_row.first().copied().unwrap_or(0.0),
        per_row.last().copied().unwrap_or(0.0),
    );
    let bounds: Vec<f64> = std::iter::once(lo)
        .chain(edges.iter().copied().filter(|&e| e > lo && e < hi))
        .chain(std::iter::once(hi))
        .collect();
    let mut out = Vec::new();
    for (k, pair) in bounds.windows(2).enumerate() {
        let (a, b) = match pair {
            [a, b] => (*a, *b),
            _ => continue,
        };
        let last = k + 2 == bounds.len();
        let rows: Vec<u32> = value_of
            .iter()
            .enumerate()
            .filter(|(_, &v)| v >= a && (v < b || (last && v <= b)))
            .map(|(i, _)| i as u32)
            .collect();
        let label = if last {
            format!("[{a}, {b}]")
        } else {
            format!("[{a}, {b})")
        };
        out.push((column.clone(), label, rows));
    }
    Ok(out)
}

impl Comparison {
    /// What people read.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} against {} on {}: {} rows, paired bootstrap of {} resamples, margin {}",
            self.new.path.display(),
            self.old.path.display(),
            self.data.path.display(),
            self.rows,
            self.bootstrap.resamples,
            self.margin
        );
        let pct = self.bootstrap.confidence * 100.0;
        let _ = writeln!(
            s,
            "\n{:<28} {:>8} {:>8} {:>9}   {pct:.0}% interval of the gain",
            "metric", "new", "old", "gain"
        );
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
        let row = |s: &mut String, j: &Judged| {
            let d = &j.delta;
            let ci = match (d.low, d.high) {
                (Some(l), Some(h)) => format!("[{l:+.4}, {h:+.4}]"),
                _ => String::new(),
            };
            let gain = d.delta.map_or("-".into(), |v| format!("{v:+.4}"));
            let _ = writeln!(
                s,
                "{:<28} {:>8} {:>8} {gain:>9}   {ci}{}",
                d.metric.name(),
                f(d.new),
                f(d.old),
                if j.regressed { "  REGRESSED" } else { "" }
            );
        };
        for j in &self.overall {
            row(&mut s, j);
        }
        for sl in &self.slices {
            if sl.small {
                let _ = writeln!(
                    s,
                    "\n{}={}: {} rows, too few to judge",
                    sl.column, sl.value, sl.rows
                );
                continue;
            }
            if sl.deltas.iter().any(|j| j.regressed) {
                let _ = writeln!(s, "\n{}={} ({} rows)", sl.column, sl.value, sl.rows);
                for j in sl.deltas.iter().filter(|j| j.regressed) {
                    row(&mut s, j);
                }
            }
        }
        let judged = self.slices.iter().filter(|s| !s.small).count();
        let worse = self
            .slices
            .iter()
            .filter(|s| s.deltas.iter().any(|j| j.regressed))
            .count();
        let _ = writeln!(
            s,
            "\n{}",
            if self.regressed.is_empty() {
                format!("no regression overall or on {judged} slices: PASSED")
            } else {
                format!(
                    "REGRESSED: overall {}, and on {worse} of {judged} slices",
                    if self.overall.iter().any(|j| j.regressed) {
                        "yes"
                    } else {
                        "no"
                    }
                )
            }
        );
        s
    }
}
