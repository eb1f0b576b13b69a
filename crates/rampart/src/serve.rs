//! `rampart serve`: the gateway (rampart-gateway) from the command line.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rampart_gateway::keys::KeyLog;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The policy whose [serve] and [admission] the gateway follows
    /// [default: rampart.toml here or in a parent folder].
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where to listen [default: [serve] listen, else 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The registry's store: a SQLite file, or postgres://USER@HOST:PORT/DB
    /// [default: registry.db in the ledger's folder].
    #[arg(long, global = true, env = "RAMPART_REGISTRY")]
    store: Option<String>,
    /// The ledger folder [default: .rampart here or in a parent folder].
    #[arg(long, global = true)]
    ledger: Option<PathBuf>,
    /// Share rate and token limits with every replica through this Redis
    /// (redis://HOST:PORT); while it does not answer, limits are local.
    #[arg(long, env = "RAMPART_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// On SIGTERM, how long requests in flight may take to finish.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    drain: u64,
    /// Print JSON on stdout (check-config, keys), for machines.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<ServeCommand>,
}

#[derive(Subcommand, Debug)]
enum ServeCommand {
    /// Check [serve] in the policy and show what would be served and why
    /// not; exit 1 when a configured model would be refused.
    CheckConfig,
    /// API keys: made here, shown once, kept only as hashes in signed
    /// ledger events.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Make a key; its token is printed once and never kept.
    ///
    /// Example: rampart serve keys create ci-scorer --role scorer --expires 30d
    Create {
        /// Who or what the key is for (the principal is key:NAME).
        name: String,
        /// A role from [serve.roles]; repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// How long it is valid: 30d, 12h, 15m or 90s [default: until revoked].
        #[arg(long, value_parser = rampart_gateway::parse_duration)]
        expires: Option<u64>,
    },
    /// Revoke a key by id; every gateway refuses it within a second
    /// (revoking a revoked key changes nothing and exits 0).
    Revoke {
        /// The key's id (from `keys list`).
        id: String,
    },
    /// Every key: id, name, roles, when made, expiry, revocation.
    List,
}

fn setup(a: &ServeArgs) -> Result<rampart_gateway::Setup> {
    let policy = crate::common::load_policy(a.config.as_deref())?;
    let project = crate::common::project(a.ledger.as_deref())?
        .context("no ledger here: run `rampart init` first (or give --ledger DIR)")?;
    Ok(rampart_gateway::Setup {
        project,
        policy,
        store: a.store.clone(),
        redis: a.redis.clone(),
        audit: true,
    })
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let setup = setup(&a)?;
    match &a.command {
        None => {
            let config = rampart_gateway::Checked::from_policy(&setup.policy)?;
            let addr = a
                .listen
                .or(config.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
            rampart_gateway::run(setup, addr, std::time::Duration::from_secs(a.drain))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(ServeCommand::CheckConfig) => check_config(setup, a.json),
        Some(ServeCommand::Keys(k)) => keys(setup, k, a.json),
    }
}

fn check_config(mut setup: rampart_gateway::Setup, json: bool) -> Result<ExitCode> {
    rampart_gateway::log::quiet(true);
    setup.audit = false;
    let gw = rampart_gateway::Gateway::start(setup)?;
    let report = gw.report();
    match json {
        true => crate::common::print_json(&report.json)?,
        false => print!("{}", report.text),
    }
    Ok(crate::common::verdict(report.ok))
}

fn keys(setup: rampart_gateway::Setup, k: &KeysCommand, json: bool) -> Result<ExitCode> {
    let config = rampart_gateway::Checked::from_policy(&setup.policy)?;
    let mut log = KeyLog::open(&setup.project)?;
    match k {
        KeysCommand::Create {
            name,
            roles,
            expires,
        } => {
            if let Some(r) = roles.iter().find(|r| !config.roles.contains_key(*r)) {
                anyhow::bail!(
                    "no role {r:?} in [serve.roles] of {}: define it first",
                    config.source.display()
                );
            }
            let made = log.create(
                name,
                roles,
                expires.map(|s| rampart_gateway::keys::now().saturating_add(s)),
            )?;
            // What check-config would say about this key, said now.
            let now = rampart_gateway::keys::now();
            for w in config.warnings(&log.list(), now) {
                if w.contains(&made.info.id) {
                    eprintln!("warning: {w}");
                }
            }
            match json {
                true => crate::common::print_json(&made)?,
                false => println!(
                    "{}\n\nkey {} for {name} (roles: {}). The token above is shown once; it is not kept.",
                    made.token,
                    made.info.id,
                    if roles.is_empty() { "none".into() } else { roles.join(", ") }
                ),
            }
        }
        KeysCommand::Revoke { id } => {
            let r = log.revoke(id)?;
            let k = &r.key;
            match (json, r.already) {
                (true, _) => crate::common::print_json(&r)?,
                (false, false) => println!(
                    "revoked key {} ({}); every gateway refuses it within a second",
                    k.id, k.name
                ),
                (false, true) => println!(
                    "key {} ({}) was revoked already, {}; nothing changed",
                    k.id,
                    k.name,
                    k.revoked
                        .map(rampart_gateway::keys::when)
                        .unwrap_or_default()
                ),
            }
        }
        KeysCommand::List => {
            let all = log.list();
            match json {
                true => crate::common::print_json(&all)?,
                false => print!("{}", rampart_gateway::keys::list_text(&all)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
