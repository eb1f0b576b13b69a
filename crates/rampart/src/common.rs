//! What every command shares: the policy, the evidence project, and
//! writing what it made.

use anyhow::{Context, Result};
use rampart_core::Policy;
use rampart_evidence::Project;
use std::path::Path;
use std::process::ExitCode;

/// `--config FILE`, else `rampart.toml` here or in the nearest parent,
/// else the defaults.
pub fn load_policy(config: Option<&Path>) -> Result<Policy> {
    let path = match config {
        Some(p) => Some(p.to_path_buf()),
        None => {
            Policy::discover(&std::env::current_dir().context("cannot read the current directory")?)
        }
    };
    match path {
        Some(p) => Ok(Policy::load(&p)?),
        None => Ok(Policy::default()),
    }
}

/// The project to record in (`--ledger DIR`, else `.rampart` when it
/// holds a ledger), checked before any work is done.
pub fn project(ledger: Option<&Path>) -> Result<Option<Project>> {
    let project = Project::find(ledger);
    project.as_ref().map(Project::ready).transpose()?;
    Ok(project)
}

/// Records a gate run in `project`'s ledger and says where.
pub fn record(
    project: Option<&Project>,
    outcome: &rampart_gate::Outcome,
    policy_sha256: &str,
) -> Result<()> {
    if let Some(project) = project {
        let idx = outcome.record(project, policy_sha256)?;
        eprintln!(
            "attestation: entry {idx} of the ledger in {}",
            project.dir().display()
        );
    }
    Ok(())
}

/// Exit 0 when passed, 1 when not.
pub fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes `text` to `output` atomically, or to stdout.
pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    use std::io::Write;
    match output {
        Some(p) => rampart_core::write_atomic(p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display())),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to stdout"),
    }
}
