//! `rampart data pii scan | mask | unmask | keygen`.

use super::{run_gate, settings, MaskArgs, ScanArgs};
use crate::common::verdict;
use anyhow::{Context, Result};
use rampart_dataset::pii::Direction;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn scan(a: &ScanArgs) -> Result<ExitCode> {
    let s = settings(&a.masking, &a.common)?;
    let gate = rampart_gate::PiiScan {
        inputs: a.paths.clone(),
        threshold: s.masking.threshold,
        reading: s.reading,
        max_matches: a.max_matches,
    };
    let passed = run_gate(&gate, a.json, a.common.ledger(), &s.policy_sha256)?;
    Ok(verdict(passed))
}

pub(super) fn mask(a: &MaskArgs, unmask: bool) -> Result<ExitCode> {
    let s = settings(&a.masking, &a.common)?;
    rampart_core::check_output(&a.output, std::slice::from_ref(&a.input))?;
    let keys = match &a.key {
        Some(k) => Some(
            rampart_pii::transform::Keys::parse(
                &std::fs::read_to_string(k)
                    .with_context(|| format!("cannot read the key {}", k.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", k.display()))?,
        ),
        None => None,
    };
    let gate = rampart_gate::Mask {
        input: a.input.clone(),
        output: a.output.clone(),
        policy: s.masking,
        keys,
        direction: if unmask {
            Direction::Unmask
        } else {
            Direction::Mask
        },
        reading: s.reading,
    };
    // Values that could not be transformed were redacted (and are
    // warned about): the output holds no personal data, so it is written.
    run_gate(&gate, false, a.common.ledger(), &s.policy_sha256)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keygen(path: &Path) -> Result<ExitCode> {
    use rand_core::RngCore;
    let mut key = [0u8; 32];
    rand_core::OsRng
        .try_fill_bytes(&mut key)
        .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    rampart_core::write_new(path, format!("{}\n", hex::encode(key)).as_bytes(), 0o600)?;
    println!(
        "wrote a new masking key to {} (keep it secret: it links pseudonyms and opens tokens)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
