//! `rampart data drift REFERENCE CURRENT`.

use super::{run_gate, settings, Common, Masking};
use crate::common::verdict;
use anyhow::Result;
use clap::Args;
use rampart_profile::drift::{Method, Options, DEFAULT_DISTANCE_THRESHOLD};
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
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    method: Method,
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
    #[arg(long, value_enum, default_value_t = Correction::BenjaminiHochberg)]
    correction: Correction,
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

pub(super) fn drift(a: &DriftArgs) -> Result<ExitCode> {
    let s = settings(&Masking::default(), &a.common)?;
    let o = Options {
        method: a.method,
        alpha: a.alpha,
        threshold: a.distance_threshold.unwrap_or(DEFAULT_DISTANCE_THRESHOLD),
        correction: a.correction,
        drift_share: a.drift_share,
    };
    let gate = rampart_gate::Drift {
        reference: a.reference.clone(),
        current: a.current.clone(),
        options: o,
        exact_limit: a.exact_limit,
        threshold: s.masking.threshold,
        reading: s.reading,
    };
    match run_gate(&gate, a.json, a.common.ledger(), "default") {
        Ok(passed) => Ok(verdict(passed)),
        Err(e) => {
            // Nothing could be compared: show what was, then fail.
            if let Some(rampart_gate::Error::Untestable { table, .. }) = e.downcast_ref() {
                print!("{table}");
            }
            Err(e)
        }
    }
}
