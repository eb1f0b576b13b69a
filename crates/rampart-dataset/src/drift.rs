//! Drift between a reference and current data: both sides read (a
//! profile as it is, a dataset on all cores), masked alike, compared by
//! [`rampart_profile::drift::compare`].

use crate::columns::{summarise, Summarised};
use crate::error::{invalid, Error};
use crate::watch::step;
use crate::{Reading, Watch};
use rampart_profile::drift::{compare, Options, Report, Side};
use std::path::{Path, PathBuf};

/// A comparison, and what reading the sides warned about.
#[derive(Debug)]
pub struct Drift {
    pub report: Report,
    pub warnings: Vec<String>,
}

impl Drift {
    /// Columns were added or removed.
    pub fn schema_changed(&self) -> bool {
        !self.report.missing.is_empty() || !self.report.added.is_empty()
    }

    pub fn passed(&self) -> bool {
        !self.report.dataset_drift && !self.schema_changed()
    }

    /// Nothing could be compared: no column tested, none added or
    /// removed. Not a pass: drift cannot be judged.
    pub fn untestable(&self) -> bool {
        self.report.tested == 0 && !self.schema_changed()
    }

    /// The attestation's details.
    pub fn details(&self) -> serde_json::Value {
        let r = &self.report;
        serde_json::json!({
            "passed": self.passed(),
            "method": r.method,
            "correction": r.correction,
            "rows": r.rows,
            "tested": r.tested,
            "drifted": r.columns.iter().filter(|c| c.drifted).map(|c| &c.column).collect::<Vec<_>>(),
            "drift_share": r.drift_share,
            "missing": r.missing,
            "added": r.added,
        })
    }
}

/// A side as given: a profile, read already, or a dataset to read.
enum Input {
    Profile(Box<Side>),
    Dataset(PathBuf),
}

fn input(path: &Path) -> Result<Input, Error> {
    Ok(match crate::profile::read(path)? {
        Some(profile) => Input::Profile(Box::new(Side::from_profile(&profile))),
        None => Input::Dataset(path.to_path_buf()),
    })
}

/// A side, read on `workers` threads if it is a dataset, with the
/// warnings its reading gave.
fn read_side(
    input: Input,
    reading: &Reading,
    limit: usize,
    workers: usize,
) -> Result<(Side, Vec<String>), Error> {
    let path = match input {
        Input::Profile(side) => return Ok((*side, Vec::new())),
        Input::Dataset(path) => path,
    };
    let path = path.as_path();
    let Summarised {
        columns: samples,
        dropped,
        summary,
    } = summarise(path, reading, workers, move || Side::sample(limit))?;
    let side = Side::from_samples(summary.records, samples, dropped, limit);
    if side.rows == 0 {
        invalid!(
            "{}: no rows to compare (an empty file, or every row malformed)",
            path.display()
        );
    }
    Ok((side, crate::reading::skipped_warnings(path, &summary)))
}

/// Compares `current` with `reference`, each a dataset or a profile.
/// Numbers of a column past `exact_limit` per side are compared through
/// their t-digest. Columns a profile masked are compared with the other
/// side's values masked alike (at `threshold`).
pub fn drift(
    reference: &Path,
    current: &Path,
    o: &Options,
    exact_limit: usize,
    threshold: f32,
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<Drift, Error> {
    if !(0.0..1.0).contains(&o.alpha) || !(0.0..=1.0).contains(&o.drift_share) {
        invalid!("--alpha must be in [0, 1) and --drift-share in [0, 1]");
    }
    if o.threshold.is_nan() || o.threshold < 0.0 {
        invalid!("--distance-threshold must be a distance, 0 or more");
    }
    let message = format!("reading {} and {}", reference.display(), current.display());
    let sides = step(watch, &message, || {
        // The datasets among the sides are read at once, sharing the cores.
        let (r, c) = (input(reference)?, input(current)?);
        let datasets = [&r, &c]
            .iter()
            .filter(|i| matches!(i, Input::Dataset(_)))
            .count();
        let each = (crate::workers() / datasets.max(1)).max(1);
        let (r, c) = std::thread::scope(|s| {
            let r = s.spawn(|| read_side(r, reading, exact_limit, each));
            let c = read_side(c, reading, exact_limit, each);
            let r = r.join().unwrap_or_else(|_| {
                Err(Error::invalid(format!(
                    "reading {} failed",
                    reference.display()
                )))
            });
            (r, c)
        });
        Ok::<_, Error>((r?, c?))
    })?;
    let ((mut reference_side, mut warnings), (mut current_side, more)) = sides;
    warnings.extend(more);
    // A profile's masked columns are compared with values masked alike:
    // both sides, whichever was masked (masking a mask changes nothing).
    let mut masked = reference_side.masked_columns();
    masked.extend(current_side.masked_columns());
    if !masked.is_empty() {
        let mask = |column: &str, value: &str| crate::pii::mask_personal(column, value, threshold);
        reference_side.mask_columns(&masked, &mask);
        current_side.mask_columns(&masked, &mask);
    }
    for (side, rows) in [
        (reference, reference_side.rows),
        (current, current_side.rows),
    ] {
        if rows == 0 {
            invalid!(
                "{}: no rows: drift from or to nothing cannot be judged",
                side.display()
            );
        }
    }
    Ok(Drift {
        report: compare(&reference_side, &current_side, o),
        warnings,
    })
}

/// The comparison as a table for people, one line per column, and a
/// verdict line.
pub fn text(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let num = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    let p = |x: Option<f64>| {
        x.map_or("-".to_string(), |v| {
            if v < 1e-4 {
                format!("{v:.1e}")
            } else {
                format!("{v:.4}")
            }
        })
    };
    let _ = writeln!(
        out,
        "{:<24} {:<16} {:<15} {:>10} {:>9} {:>9} {:>8} {:>8}  drift",
        "column", "type", "test", "statistic", "p", "p adj.", "PSI", "W/std"
    );
    for c in &r.columns {
        let _ = writeln!(
            out,
            "{:<24} {:<16} {:<15} {:>10} {:>9} {:>9} {:>8} {:>8}  {}{}",
            c.column,
            c.kind,
            format!("{}{}", c.test, if c.exact { "" } else { " ~" }),
            num(c.statistic),
            p(c.p_value),
            p(c.p_adjusted),
            num(c.psi),
            num(c.wasserstein_norm),
            if c.drifted { "DRIFT" } else { "-" },
            c.note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default(),
        );
    }
    if r.columns.iter().any(|c| !c.exact) {
        let _ = writeln!(
            out,
            "~ compared through sketches (a profile, or more values than --exact-limit)"
        );
    }
    if !r.missing.is_empty() {
        let _ = writeln!(
            out,
            "schema: missing from the current data: {}",
            r.missing.join(", ")
        );
    }
    if !r.added.is_empty() {
        let _ = writeln!(
            out,
            "schema: new in the current data: {}",
            r.added.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "{} of {} tested columns drifted ({:.0}%; {}, alpha {}); rows {} -> {}; dataset drift: {}",
        r.drifted,
        r.tested,
        r.drift_share * 100.0,
        r.correction,
        r.alpha,
        r.rows[0],
        r.rows[1],
        if r.dataset_drift { "YES" } else { "no" }
    );
    out
}
