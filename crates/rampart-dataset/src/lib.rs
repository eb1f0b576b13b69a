//! Datasets, read once for every data gate.
//!
//! Each engine takes a path, a [`Reading`] (how records are read: bad
//! input, encoding, size cap) and an options struct, and returns a typed
//! report with the warnings a front end should show. Long reads and fits
//! report to a [`Watch`] (the CLI draws bars and spinners on it).
//! Nothing here prints, exits or records evidence: the front ends do.
//!
//! | module | what |
//! |---|---|
//! | [`pii`] | personal data found ([`pii::scan`]), masked and unmasked ([`pii::mask`]) |
//! | [`risk`] | re-identification risk: k-anonymity and l-diversity |
//! | [`columns`] | the column scheduler: every column summarised on all cores |
//! | [`profile`] | profiles of datasets, read or made, personal data masked |
//! | [`validate`] | a dataset checked against expectations |
//! | [`drift`] | the two sides of a drift comparison |
//! | [`poison`] | duplicates, leaks, triggers, outliers and label errors; [`filter`] drops them |

mod error;
mod reading;
mod watch;

pub mod columns;
pub mod drift;
pub mod filter;
mod labels;
pub mod pii;
pub mod poison;
pub mod profile;
pub mod risk;
pub mod validate;

pub use error::Error;
pub use reading::{detect, require_columns, skipped_note, MaskingPolicy, Reading};
pub use watch::{Quiet, Watch};

/// The number of threads that summarise columns: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
