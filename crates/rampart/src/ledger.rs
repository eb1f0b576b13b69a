//! `rampart ledger ...`, `rampart init`, `rampart evidence` and
//! `rampart check`: the evidence log in `.rampart/` and what it says
//! about an artifact, over rampart-evidence and rampart-ledger.

use anyhow::{bail, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use rampart_core::GateKind;
use rampart_evidence::admission::{decide, Bar};
use rampart_evidence::Project;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct LedgerArgs {
    /// The folder holding ledger.db, ledger.key and ledger.vkey.
    #[arg(long, global = true, default_value = ".rampart")]
    dir: PathBuf,
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Subcommand, Debug)]
enum LedgerCommand {
    /// Create the ledger and its checkpoint signing key (Ed25519, mode
    /// 0600); never overwrites.
    Init {
        /// The log's name in its checkpoints (C2SP origin), e.g.
        /// example.com/ml/ledger.
        #[arg(long, default_value = Project::DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Append entries: each FILE's bytes (or stdin with `-`) is one entry.
    /// Prints each index once the append is durable.
    Append {
        /// Files whose bytes are appended, one entry each (`-`: stdin).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One transaction per file, each index printed as soon as that
        /// entry is durable (default: one transaction for all).
        #[arg(long)]
        one_by_one: bool,
    },
    /// Show the log's size and root, or one entry.
    Show { index: Option<u64> },
    /// Sign a checkpoint of the current tree (C2SP tlog-checkpoint) and
    /// print it.
    Checkpoint,
    /// Write an offline proof (C2SP tlog-proof) that entry INDEX is in the
    /// log as of the last checkpoint.
    Proof {
        index: u64,
        /// Where to write it [default: stdout].
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Check a tlog-proof against the entry's bytes, without the database:
    /// the checkpoint's signature (with --vkey or .rampart/ledger.vkey),
    /// then the inclusion.
    VerifyProof {
        proof: PathBuf,
        /// The entry's bytes.
        #[arg(long)]
        entry: PathBuf,
        /// Trusted verifier keys (name+id+key); repeatable.
        #[arg(long = "vkey")]
        vkeys: Vec<String>,
    },
    /// Prove that checkpoint NEW extends checkpoint OLD (both signed
    /// notes): prints the consistency proof and checks it.
    Consistency { old: PathBuf, new: PathBuf },
    /// Recompute the tree from every entry and check every checkpoint:
    /// edited, deleted, reordered or inserted rows are named. Exit 1 if
    /// anything is wrong.
    Verify {
        /// More verifier keys (name+id+key) whose signatures count.
        #[arg(long = "vkey")]
        vkeys: Vec<String>,
    },
}

/// `rampart init`: a commented starter rampart.toml, and the ledger with
/// its keys.
pub fn init_project() -> Result<ExitCode> {
    let policy = Path::new(rampart_core::POLICY_FILE_NAME);
    let started = Project::at(Project::DEFAULT_DIR).start(policy, include_str!("starter.toml"))?;
    let ledger = match started {
        Some(verifier) => format!("made the ledger and keys (checkpoint key {verifier})"),
        None => "kept the ledger already there".into(),
    };
    println!(
        "wrote {} (edit its stages and admission); {ledger} in .rampart/",
        policy.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: &LedgerArgs) -> Result<ExitCode> {
    let (dir, project) = (&a.dir, Project::at(&a.dir));
    let b64 = |h: &[u8]| base64::engine::general_purpose::STANDARD.encode(h);
    match &a.command {
        LedgerCommand::Init { origin } => {
            let verifier = project.init(origin)?;
            println!(
                "ledger {origin} created in {} (checkpoint key {verifier})",
                dir.display()
            );
        }
        LedgerCommand::Append { files, one_by_one } => {
            project.append(files, *one_by_one, &mut |i, f| {
                println!("{i}\t{}", f.display())
            })?
        }
        LedgerCommand::Show { index: None } => {
            let l = project.ledger()?;
            let root = b64(&l.tree().root());
            println!("origin {}\nsize {}\nroot {root}", l.origin(), l.size());
        }
        // The entry's bytes exactly, so that `verify-proof --entry` reads
        // back what was logged.
        LedgerCommand::Show { index: Some(i) } => {
            let l = project.ledger()?;
            let Some(data) = l.entry(*i)? else {
                bail!("no entry {i}: the ledger has {} entries", l.size());
            };
            std::io::Write::write_all(&mut std::io::stdout(), &data)?
        }
        LedgerCommand::Checkpoint => {
            print!(
                "{}",
                project.ledger()?.checkpoint(&project.checkpoint_key()?)?
            )
        }
        LedgerCommand::Proof { index, out } => {
            let text = project.ledger()?.proof(*index)?.to_text();
            crate::common::emit(&text, out.as_deref())?
        }
        LedgerCommand::VerifyProof {
            proof,
            entry,
            vkeys,
        } => {
            let (p, cp) = match project.verify_proof(proof, entry, vkeys)? {
                Ok(held) => held,
                Err(e) => return failed(&format!("proof FAILED: {}: {e}", proof.display())),
            };
            let (i, origin, size) = (p.index, cp.origin, cp.size);
            println!(
                "{} is entry {i} of {origin} (checkpoint of size {size})",
                entry.display()
            );
        }
        LedgerCommand::Consistency { old, new } => {
            let c = project.consistency(old, new)?;
            let (a, b) = (c.old.size, c.new.size);
            if let Some(e) = c.broken {
                return failed(&format!(
                    "INCONSISTENT: checkpoint {b} does not extend checkpoint {a}: {e}"
                ));
            }
            c.proof.iter().for_each(|h| println!("{}", b64(h)));
            eprintln!("checkpoint {b} extends checkpoint {a}");
        }
        LedgerCommand::Verify { vkeys } => {
            let audit = project.audit(vkeys)?;
            if !audit.problems.is_empty() {
                let lines: Vec<String> = audit
                    .problems
                    .iter()
                    .map(|p| format!("TAMPERED: {p}"))
                    .collect();
                return failed(&lines.join("\n"));
            }
            let (e, c) = (audit.entries, audit.checkpoints);
            println!("ledger OK: {e} entries, {c} checkpoints verified");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says why on stderr; exit 1.
fn failed(why: &str) -> Result<ExitCode> {
    eprintln!("{why}");
    Ok(ExitCode::from(1))
}

/// `rampart evidence ARTIFACT`: every attestation about its digest.
/// Exit 1 if a signature does not verify.
pub fn evidence(path: &Path, dir: &Path, json: bool) -> Result<ExitCode> {
    let ev = Project::at(dir).evidence(path)?;
    if json {
        let doc = serde_json::json!({"artifact": path, "sha256": ev.digest, "attestations": ev.attestations});
        crate::common::print_json(&doc)?;
    } else {
        print!("{}", ev.text());
    }
    Ok(crate::common::verdict(ev.all_signed()))
}

/// `rampart check ARTIFACT`: admission by the gates `require` names, else
/// those `[admission]` requires.
pub fn check(path: &Path, dir: &Path, require: &[GateKind]) -> Result<ExitCode> {
    let policy = crate::common::load_policy(None)?;
    let required = if require.is_empty() {
        &policy.admission.require
    } else {
        require
    };
    let ev = Project::at(dir).evidence(path)?;
    let d = decide(&ev, required, &Bar::from_policy(&policy))?;
    print!("{}", d.text(&ev));
    Ok(crate::common::verdict(d.admitted()))
}

#[cfg(test)]
mod tests {
    /// The starter's commented examples are policy a user can switch on:
    /// uncommented, they must read.
    #[test]
    fn the_starters_eval_example_reads_when_uncommented() {
        let starter = include_str!("starter.toml");
        let mut on = false;
        let text: String = starter
            .lines()
            .map(|l| {
                if l.starts_with("# [[stage]]") || l.starts_with("# [admission.eval]") {
                    on = true;
                }
                let line = if on {
                    l.strip_prefix("# ").unwrap_or(l)
                } else {
                    l
                };
                if on && (l.is_empty() || l.starts_with("# What") || l.starts_with("# The model")) {
                    on = false;
                }
                format!("{line}\n")
            })
            .collect();
        let text = text.replace("require = [\"scan\"]", "require = [\"scan\", \"eval\"]");
        let policy = rampart_core::Policy::parse(&text, std::path::Path::new("rampart.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let gates: Vec<_> = policy
            .stages
            .iter()
            .flat_map(|s| s.gates.iter().map(|g| g.kind().name()))
            .collect();
        assert!(gates.contains(&"eval"), "{gates:?}");
        assert!(gates.contains(&"risk"), "{gates:?}");
        let bar = policy.admission.eval.expect("the admission bar");
        assert_eq!(bar.queries, Some(1000));
    }
}
