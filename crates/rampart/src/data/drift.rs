//! `rampart data drift REFERENCE CURRENT`.

use super::{run_gate, settings, Common, Masking};
use crate::common::verdict;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct DriftArgs {
    #[command(flatten)]
    gate: rampart_gate::Drift,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

pub(super) fn drift(a: DriftArgs) -> Result<ExitCode> {
    let s = settings(&Masking::default(), &a.common)?;
    let gate = rampart_gate::Drift {
        threshold: s.masking.threshold,
        reading: s.reading,
        ..a.gate
    };
    match run_gate(&gate, a.json, &a.common, "default") {
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
