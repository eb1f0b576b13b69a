//! Two-sample statistics for drift between a reference and a current
//! sample: the Kolmogorov-Smirnov test (`ks`), the chi-squared test of
//! homogeneity (`chi2`), the distances PSI, Jensen-Shannon and Wasserstein
//! (`distance`), and multiple-test corrections (`correct`).
//!
//! Each statistic is defined as scipy (and, for binned distances, Evidently)
//! defines it, so that results can be compared number for number: the tests
//! check against values scipy computed (`tests/fixtures/scipy.json`, made
//! by `tools/drift_fixtures.py`) to 1e-9.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        unsafe_code
    )
)]

pub mod chi2;
pub mod correct;
pub mod distance;
pub mod ks;

/// A sample as distinct values with their weights (counts), in increasing
/// value order.
pub type Weighted = [(f64, f64)];
