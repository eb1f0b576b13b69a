//! `rampart data pii scan | mask | unmask | keygen`.

use super::{run_gate, settings, MaskArgs, ScanArgs};
use crate::common::verdict;
use anyhow::Result;
use rampart_dataset::pii::Direction;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn scan(a: ScanArgs) -> Result<ExitCode> {
    let s = settings(&a.masking, &a.common)?;
    let gate = rampart_gate::PiiScan {
        threshold: s.masking.threshold,
        reading: s.reading,
        ..a.gate
    };
    Ok(verdict(run_gate(
        &gate,
        a.json,
        &a.common,
        &s.policy_sha256,
    )?))
}

pub(super) fn mask(a: MaskArgs, direction: Direction) -> Result<ExitCode> {
    let s = settings(&a.masking, &a.common)?;
    rampart_core::check_output(&a.output, std::slice::from_ref(&a.input))?;
    let keys = a
        .key
        .as_deref()
        .map(rampart_dataset::pii::read_key)
        .transpose()?;
    let gate = rampart_gate::Mask {
        input: a.input,
        output: a.output,
        policy: s.masking,
        keys,
        direction,
        reading: s.reading,
    };
    // Values that could not be transformed were redacted (and are
    // warned about): the output holds no personal data, so it is written.
    run_gate(&gate, false, &a.common, &s.policy_sha256)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keygen(path: &Path) -> Result<ExitCode> {
    rampart_dataset::pii::new_key(path)?;
    println!(
        "wrote a new masking key to {} (keep it secret: it links pseudonyms and opens tokens)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
