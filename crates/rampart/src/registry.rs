//! `rampart registry ...`: the model registry (rampart-registry) from the
//! command line. Refusals (policy, approvals, a lost race, changed bytes)
//! and a `verify` that finds differences exit 1; errors exit 2.

use anyhow::Result;
use clap::Args;
use rampart_evidence::Project;
use rampart_registry::{Registry, Request};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// The store: a SQLite file, or postgres://USER@HOST:PORT/DB for a team
    /// [default: registry.db in the ledger's folder].
    #[arg(long, global = true, env = "RAMPART_REGISTRY")]
    store: Option<String>,
    /// The ledger folder that records every change [default: .rampart here
    /// or in a parent folder].
    #[arg(long, global = true)]
    ledger: Option<PathBuf>,
    /// Print JSON on stdout, for machines.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    request: Request,
}

pub fn run(a: RegistryArgs) -> Result<ExitCode> {
    let project =
        Project::find(a.ledger.as_deref()).unwrap_or_else(|| Project::at(Project::DEFAULT_DIR));
    let store = a
        .store
        .unwrap_or_else(|| rampart_registry::default_store(&project));
    let policy = crate::common::load_policy(None)?;
    let mut r = Registry::open(project, &store, policy)?;
    let reply = match r.execute(&a.request) {
        Err(e) if e.is_refusal() => {
            if a.json {
                crate::common::print_json(
                    &serde_json::json!({"ok": false, "refused": e.to_string()}),
                )?;
            }
            match e {
                rampart_registry::Error::Refused { what, reasons } => {
                    eprintln!("REFUSED {what}: {}", reasons.join("; "))
                }
                other => eprintln!("REFUSED {other}"),
            }
            return Ok(ExitCode::from(1));
        }
        reply => reply?,
    };
    match a.json {
        true => crate::common::print_json(&reply.json)?,
        false => print!("{}", reply.text),
    }
    Ok(crate::common::verdict(reply.ok))
}
