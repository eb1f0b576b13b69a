//! `rampart demo`: the scanner on the bundled examples, with every verdict
//! checked against `examples/expected.json`.

use crate::cli::{load_policy, scan_report};
use anyhow::{bail, Result};
use rampart_core::{render, Severity};
use rampart_scan::expect::Expectations;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

fn examples_dir(dir: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d);
    }
    let local = PathBuf::from("examples");
    if local.join("expected.json").is_file() {
        return Ok(local);
    }
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));
    if built.join("expected.json").is_file() {
        return Ok(built);
    }
    bail!("no examples folder: run from the repository root, or pass --dir PATH (a folder with expected.json)")
}

pub fn run(dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = examples_dir(dir)?;
    let expectations =
        Expectations::load(&dir.join("expected.json")).map_err(anyhow::Error::msg)?;
    let policy = load_policy(None)?;
    let mut report = scan_report(std::slice::from_ref(&dir), &policy, false)?;
    // The expectations file describes the samples; it is not one.
    report
        .findings
        .retain(|f| !f.location.path.ends_with("expected.json"));
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", render::table(&report, Severity::Medium, color));
    let mismatches = expectations.check(&dir, &report);
    let total = expectations.files.len();
    println!();
    println!(
        "demo: scanned {} files in {}; {} of {} sample verdicts as expected (expected.json)",
        report.metrics.get("files").copied().unwrap_or(0),
        dir.display(),
        total
            - mismatches
                .iter()
                .filter(|m| expectations.files.contains_key(&m.file))
                .count(),
        total
    );
    println!(
        "(The FAIL above is the scanner's verdict: the malicious samples fail the gate, as they should. \
The demo passes when every sample gets the verdict it was built for.)"
    );
    for m in &mismatches {
        println!(
            "  MISMATCH {}: expected {}, got {}",
            m.file, m.expected, m.actual
        );
    }
    Ok(if mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
