//! `rampart data drift REFERENCE CURRENT`.

use super::{settings, warn, Common, Masking};
use crate::common::{print_json, record_details, verdict};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use rampart_profile::drift::{Method, Options, Report, DEFAULT_DISTANCE_THRESHOLD};
use rampart_stats::correct::Correction;
use std::path::PathBuf;
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

pub(super) fn drift(a: &DriftArgs) -> Result<ExitCode> {
    let started = rampart_evidence::Started::now();
    let s = settings(&Masking::default(), &a.common)?;
    let o = Options {
        method: match a.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Ks => Method::Ks,
            MethodArg::Chi2 => Method::Chi2,
            MethodArg::Psi => Method::Psi,
            MethodArg::JensenShannon => Method::JensenShannon,
            MethodArg::Wasserstein => Method::Wasserstein,
        },
        alpha: a.alpha,
        threshold: a.distance_threshold.unwrap_or(DEFAULT_DISTANCE_THRESHOLD),
        correction: match a.correction {
            CorrectionArg::Bh => Correction::BenjaminiHochberg,
            CorrectionArg::Bonferroni => Correction::Bonferroni,
            CorrectionArg::None => Correction::None,
        },
        drift_share: a.drift_share,
    };
    let watch = crate::progress::Watch::default();
    let d = rampart_dataset::drift::drift(
        &a.reference,
        &a.current,
        &o,
        a.exact_limit,
        s.masking.threshold,
        &s.reading,
        &watch,
    )?;
    warn(&d.warnings);
    if d.untestable() {
        print_report(&d.report);
        bail!(
            "no column could be tested ({} shared: identifiers, free text, or null on both sides): drift cannot be judged, so this is not a pass; compare columns of categories or numbers",
            d.report.columns.len()
        );
    }
    if a.json {
        print_json(&d.report)?;
    } else {
        print_report(&d.report);
    }
    let inputs = [a.reference.clone(), a.current.clone()];
    let ledger = a.common.ledger();
    record_details(
        ledger,
        "data-drift",
        &inputs,
        d.passed(),
        "default",
        started,
        d.details(),
    )?;
    Ok(verdict(d.passed()))
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
