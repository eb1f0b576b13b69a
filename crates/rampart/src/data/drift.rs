//! `rampart data drift REFERENCE CURRENT`: the command over
//! `rampart_profile::drift`.

use super::{
    load_policy, read_profile, record_attestation, summarise, warn_skipped, workers, Common,
    Masking, Summarised,
};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use rampart_profile::drift::{compare, Method, Options, Report, Side, DEFAULT_DISTANCE_THRESHOLD};
use rampart_stats::correct::Correction;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct DriftArgs {
    /// The reference: a dataset (CSV/TSV, JSON Lines, JSON, Parquet,
    /// compressed or not) or a profile from `rampart data profile`.
    reference: PathBuf,
    /// The current data, in any of the same forms.
    current: PathBuf,
    /// What decides that a column drifted. auto: the KS test for numeric
    /// columns, chi-squared for categories and for numeric columns of at
    /// most 5 values; p-values corrected for the number of columns. psi,
    /// jensen-shannon, wasserstein: a distance at or above
    /// --distance-threshold
    /// (categorical columns use Jensen-Shannon for wasserstein).
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    method: MethodArg,
    /// Significance level of the tests, after correction.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Distance at which a column drifted, for the distance methods
    /// [default: 0.1, as Evidently's].
    #[arg(long)]
    distance_threshold: Option<f64>,
    /// Correction of p-values for testing many columns:
    /// Benjamini-Hochberg (false discovery rate), Bonferroni (any false
    /// alarm), or none.
    #[arg(long, value_enum, default_value_t = CorrectionArg::Bh)]
    correction: CorrectionArg,
    /// The dataset drifted when at least this share of the tested columns
    /// did (exit 1).
    #[arg(long, default_value_t = 0.5)]
    drift_share: f64,
    /// Numbers of a column kept exactly, per side; past this a column is
    /// compared through its t-digest (KS statistic within 0.2%), so memory
    /// stays bounded. Exact statistics equal scipy's.
    #[arg(long, default_value_t = 100_000)]
    exact_limit: usize,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    Auto,
    Ks,
    Chi2,
    Psi,
    JensenShannon,
    Wasserstein,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CorrectionArg {
    Bh,
    Bonferroni,
    None,
}

/// One side: a profile as it is, or a dataset read value by value.
/// A side as given: a profile, read already, or a dataset to read.
enum Input {
    Profile(Box<Side>),
    Dataset(PathBuf),
}

fn input(path: &Path) -> Result<Input> {
    Ok(match read_profile(path)? {
        Some(profile) => Input::Profile(Box::new(Side::from_profile(&profile))),
        None => Input::Dataset(path.to_path_buf()),
    })
}

/// A side, read on `workers` threads if it is a dataset.
fn read_side(
    input: Input,
    policy: &rampart_pii::transform::Policy,
    limit: usize,
    workers: usize,
) -> Result<Side> {
    let path = match input {
        Input::Profile(side) => return Ok(*side),
        Input::Dataset(path) => path,
    };
    let path = path.as_path();
    let Summarised {
        columns: samples,
        dropped,
        summary,
    } = summarise(path, policy, workers, move || Side::sample(limit))?;
    let side = Side::from_samples(summary.records, samples, dropped, limit);
    warn_skipped(path, &summary);
    if side.rows == 0 {
        bail!(
            "{}: no rows to compare (an empty file, or every row malformed)",
            path.display()
        );
    }
    Ok(side)
}

pub(super) fn drift(a: &DriftArgs) -> Result<ExitCode> {
    let (policy, _) = load_policy(&Masking::default(), &a.common)?;
    if !(0.0..1.0).contains(&a.alpha) || !(0.0..=1.0).contains(&a.drift_share) {
        bail!("--alpha must be in [0, 1) and --drift-share in [0, 1]");
    }
    if a.distance_threshold.is_some_and(|t| t.is_nan() || t < 0.0) {
        bail!("--distance-threshold must be a distance, 0 or more");
    }
    let method = match a.method {
        MethodArg::Auto => Method::Auto,
        MethodArg::Ks => Method::Ks,
        MethodArg::Chi2 => Method::Chi2,
        MethodArg::Psi => Method::Psi,
        MethodArg::JensenShannon => Method::JensenShannon,
        MethodArg::Wasserstein => Method::Wasserstein,
    };
    let o = Options {
        method,
        alpha: a.alpha,
        threshold: a.distance_threshold.unwrap_or(DEFAULT_DISTANCE_THRESHOLD),
        correction: match a.correction {
            CorrectionArg::Bh => Correction::BenjaminiHochberg,
            CorrectionArg::Bonferroni => Correction::Bonferroni,
            CorrectionArg::None => Correction::None,
        },
        drift_share: a.drift_share,
    };
    let progress = crate::progress::spinner(&format!(
        "reading {} and {}",
        a.reference.display(),
        a.current.display()
    ));
    // The datasets among the sides are read at once, sharing the cores.
    let (r, c) = (input(&a.reference)?, input(&a.current)?);
    let datasets = [&r, &c]
        .iter()
        .filter(|i| matches!(i, Input::Dataset(_)))
        .count();
    let each = (workers() / datasets.max(1)).max(1);
    let (reference, current) = std::thread::scope(|s| {
        let r = s.spawn(|| read_side(r, &policy, a.exact_limit, each));
        let c = read_side(c, &policy, a.exact_limit, each);
        (
            r.join()
                .unwrap_or_else(|_| bail!("reading {} failed", a.reference.display())),
            c,
        )
    });
    progress.finish_and_clear();
    let (mut reference, mut current) = (reference?, current?);
    // A profile's masked columns are compared with values masked alike:
    // both sides, whichever was masked (masking a mask changes nothing).
    let mut masked = reference.masked_columns();
    masked.extend(current.masked_columns());
    if !masked.is_empty() {
        let mask =
            |column: &str, value: &str| super::mask_personal(column, value, policy.threshold);
        reference.mask_columns(&masked, &mask);
        current.mask_columns(&masked, &mask);
    }
    for (side, rows) in [(&a.reference, reference.rows), (&a.current, current.rows)] {
        if rows == 0 {
            bail!(
                "{}: no rows: drift from or to nothing cannot be judged",
                side.display()
            );
        }
    }
    let report = compare(&reference, &current, &o);
    if report.tested == 0 && report.missing.is_empty() && report.added.is_empty() {
        print_report(&report);
        bail!(
            "no column could be tested ({} shared: identifiers, free text, or null on both sides): drift cannot be judged, so this is not a pass; compare columns of categories or numbers",
            report.columns.len()
        );
    }
    let schema_changed = !report.missing.is_empty() || !report.added.is_empty();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    let passed = !report.dataset_drift && !schema_changed;
    let predicate = json!({
        "passed": passed,
        "method": report.method,
        "correction": report.correction,
        "rows": report.rows,
        "tested": report.tested,
        "drifted": report.columns.iter().filter(|c| c.drifted).map(|c| &c.column).collect::<Vec<_>>(),
        "drift_share": report.drift_share,
        "missing": report.missing,
        "added": report.added,
    });
    record_attestation(
        &a.common,
        "data-drift",
        &[a.reference.clone(), a.current.clone()],
        predicate,
    )?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(r: &Report) {
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
    println!(
        "{:<24} {:<16} {:<15} {:>10} {:>9} {:>9} {:>8} {:>8}  drift",
        "column", "type", "test", "statistic", "p", "p adj.", "PSI", "W/std"
    );
    for c in &r.columns {
        println!(
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
        println!("~ compared through sketches (a profile, or more values than --exact-limit)");
    }
    if !r.missing.is_empty() {
        println!(
            "schema: missing from the current data: {}",
            r.missing.join(", ")
        );
    }
    if !r.added.is_empty() {
        println!("schema: new in the current data: {}", r.added.join(", "));
    }
    println!(
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
}
