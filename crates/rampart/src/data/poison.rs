//! `rampart data poison | filter`.

use super::{run_gate, FilterArgs, PoisonArgs};
use crate::common::verdict;
use anyhow::Result;
use std::process::ExitCode;

pub(super) fn poison(a: PoisonArgs) -> Result<ExitCode> {
    let gate = rampart_gate::Poison {
        reading: a.common.reading()?,
        ..a.gate
    };
    Ok(verdict(run_gate(&gate, a.json, &a.common, "default")?))
}

pub(super) fn filter(a: FilterArgs) -> Result<ExitCode> {
    rampart_core::check_output(&a.gate.output, std::slice::from_ref(&a.gate.input))?;
    let gate = rampart_gate::Filter {
        reading: a.common.reading()?,
        ..a.gate
    };
    run_gate(&gate, a.json, &a.common, "default")?;
    Ok(ExitCode::SUCCESS)
}
