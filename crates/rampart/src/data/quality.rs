//! `rampart data risk | profile | suggest | validate`.

use super::{run_gate, settings, Masking, ProfileArgs, RiskArgs, SuggestArgs, ValidateArgs};
use crate::common::verdict;
use anyhow::Result;
use std::process::ExitCode;

pub(super) fn risk(a: RiskArgs) -> Result<ExitCode> {
    let gate = rampart_gate::RiskCheck {
        reading: a.common.reading()?,
        ..a.gate
    };
    Ok(verdict(run_gate(&gate, a.json, &a.common, "default")?))
}

pub(super) fn profile(a: ProfileArgs) -> Result<ExitCode> {
    rampart_core::check_output(&a.gate.output, &a.gate.paths)?;
    let s = settings(&a.masking, &a.common)?;
    let gate = rampart_gate::Profile {
        threshold: s.masking.threshold,
        reading: s.reading,
        ..a.gate
    };
    run_gate(&gate, false, &a.common, &s.policy_sha256)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn suggest(a: SuggestArgs) -> Result<ExitCode> {
    // Suggestions are a starting point to edit, not evidence: nothing
    // is attested, so a --ledger given would be silently ignored.
    if let Some(l) = &a.common.ledger {
        anyhow::bail!(
            "--ledger {}: data suggest records nothing (its expectations are yours to edit and commit); `rampart data validate` records the check of a dataset against them",
            l.display()
        );
    }
    rampart_core::check_new_output(&a.output, std::slice::from_ref(&a.path))?;
    let s = settings(&a.masking, &a.common)?;
    let watch = crate::progress::Watch::default();
    let k = a.keep_personal_data;
    let e = rampart_dataset::profile::suggest(&a.path, &s.reading, s.masking.threshold, k, &watch)?;
    for w in &e.warnings {
        eprintln!("warning: {w}");
    }
    rampart_core::write_new(&a.output, e.toml.as_bytes(), 0o644)?;
    let (n, c, out) = (e.expectations, e.columns, a.output.display());
    println!("{n} expectations on {c} columns -> {out}");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn validate(a: ValidateArgs) -> Result<ExitCode> {
    let s = settings(&Masking::default(), &a.common)?;
    let gate = rampart_gate::Validate {
        threshold: s.masking.threshold,
        reading: s.reading,
        ..a.gate
    };
    Ok(verdict(run_gate(&gate, a.json, &a.common, "default")?))
}
