//! `rampart data risk | profile | suggest | validate`.

use super::{run_gate, settings, Masking, ProfileArgs, RiskArgs, SuggestArgs, ValidateArgs};
use crate::common::verdict;
use anyhow::Result;
use std::process::ExitCode;

pub(super) fn risk(a: &RiskArgs) -> Result<ExitCode> {
    let gate = rampart_gate::RiskCheck {
        path: a.path.clone(),
        quasi: a.quasi.clone(),
        sensitive: a.sensitive.clone(),
        min_k: a.k,
        min_l: a.l,
        max_rows: a.max_rows,
        reading: a.common.reading()?,
    };
    Ok(verdict(run_gate(
        &gate,
        a.json,
        a.common.ledger(),
        "default",
    )?))
}

pub(super) fn profile(a: &ProfileArgs) -> Result<ExitCode> {
    rampart_core::check_output(&a.output, &a.paths)?;
    let s = settings(&a.masking, &a.common)?;
    let gate = rampart_gate::Profile {
        paths: a.paths.clone(),
        output: a.output.clone(),
        merge: a.merge,
        keep_personal_data: a.keep_personal_data,
        threshold: s.masking.threshold,
        reading: s.reading,
    };
    run_gate(&gate, false, a.common.ledger(), &s.policy_sha256)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn suggest(a: &SuggestArgs) -> Result<ExitCode> {
    rampart_core::check_new_output(&a.output, std::slice::from_ref(&a.path))?;
    let s = settings(&a.masking, &a.common)?;
    let watch = crate::progress::Watch::default();
    let p = rampart_dataset::profile::of_path(&a.path, &s.reading, &watch)?;
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    let mut profile = p.profile;
    if !a.keep_personal_data {
        rampart_dataset::profile::mask(&mut profile, s.masking.threshold);
    }
    let e = rampart_profile::expect::suggest(&mut profile);
    let text = format!(
        "# Expectations suggested by `rampart data suggest` from {} ({} rows).\n\
         # Edit them, then check data with `rampart data validate PATH --expect FILE`.\n{}",
        a.path.display(),
        profile.rows,
        toml::to_string(&e)?
    );
    rampart_core::write_new(&a.output, text.as_bytes(), 0o644)?;
    println!(
        "{} expectations on {} columns -> {}",
        e.expect.len(),
        e.columns.len(),
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn validate(a: &ValidateArgs) -> Result<ExitCode> {
    let s = settings(&Masking::default(), &a.common)?;
    let gate = rampart_gate::Validate {
        path: a.path.clone(),
        expectations: a.expect.clone(),
        threshold: s.masking.threshold,
        reading: s.reading,
    };
    Ok(verdict(run_gate(
        &gate,
        a.json,
        a.common.ledger(),
        "default",
    )?))
}
