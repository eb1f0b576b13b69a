//! `rampart ledger ...`, `rampart init`, `rampart evidence` and
//! `rampart check`: the evidence log in `.rampart/` and what it says
//! about an artifact, over rampart-evidence and rampart-ledger.

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use rampart_core::GateKind;
use rampart_evidence::admission::{decide, Bar};
use rampart_evidence::Project;
use rampart_ledger::checkpoint::NoteVerifier;
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

fn open(dir: &Path) -> Result<rampart_ledger::Ledger> {
    Ok(Project::at(dir).ledger()?)
}

impl LedgerArgs {
    /// `ledger init` in `.rampart` with the default origin.
    pub fn init_default() -> Self {
        LedgerArgs {
            dir: PathBuf::from(".rampart"),
            command: LedgerCommand::Init {
                origin: Project::DEFAULT_ORIGIN.into(),
            },
        }
    }
}

/// A commented starter policy for `rampart init`.
const STARTER: &str = include_str!("starter.toml");

/// `rampart init`: rampart.toml and the ledger with its keys.
pub fn init_project() -> Result<ExitCode> {
    let policy = PathBuf::from(rampart_core::POLICY_FILE_NAME);
    if policy.exists() {
        bail!("{} exists; refusing to overwrite it", policy.display());
    }
    let project = Project::at(Project::DEFAULT_DIR);
    if project.ledger_path().exists() {
        bail!(
            "{} exists; refusing to overwrite a ledger",
            project.ledger_path().display()
        );
    }
    rampart_core::write_new(&policy, STARTER.as_bytes(), 0o644)?;
    run(&LedgerArgs::init_default())?;
    println!(
        "wrote {} (edit its stages and admission), and the ledger and keys in .rampart/",
        policy.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: &LedgerArgs) -> Result<ExitCode> {
    let dir = &a.dir;
    match &a.command {
        LedgerCommand::Init { origin } => {
            let verifier = Project::at(dir).init(origin)?;
            println!(
                "ledger {origin} created in {} (checkpoint key {verifier})",
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Append { files, one_by_one } => {
            let entries = files
                .iter()
                .map(|f| rampart_evidence::read_entry(f))
                .collect::<Result<Vec<_>, _>>()?;
            let mut l = open(dir)?;
            let batches: Vec<Vec<&[u8]>> = if *one_by_one {
                entries.iter().map(|e| vec![e.as_slice()]).collect()
            } else {
                vec![entries.iter().map(Vec::as_slice).collect()]
            };
            let mut names = files.iter();
            for batch in batches {
                for (i, f) in l.append(&batch)?.iter().zip(names.by_ref()) {
                    println!("{i}\t{}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Show { index } => {
            let l = open(dir)?;
            match index {
                None => {
                    let root = base64::engine::general_purpose::STANDARD.encode(l.tree().root());
                    println!("origin {}\nsize {}\nroot {root}", l.origin(), l.size());
                }
                // The entry's bytes exactly, so that `verify-proof --entry`
                // reads back what was logged.
                Some(i) => match l.entry(*i)? {
                    Some(data) => std::io::Write::write_all(&mut std::io::stdout(), &data)?,
                    None => bail!("no entry {i}: the ledger has {} entries", l.size()),
                },
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Checkpoint => {
            let key = Project::at(dir).checkpoint_key()?;
            let mut l = open(dir)?;
            print!("{}", l.checkpoint(&key)?);
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Proof { index, out } => {
            let mut l = open(dir)?;
            let text = l.proof(*index)?.to_text();
            match out {
                Some(p) => rampart_core::write_atomic(p, text.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::VerifyProof {
            proof,
            entry,
            vkeys,
        } => {
            let text = std::fs::read_to_string(proof)
                .with_context(|| format!("cannot read {}", proof.display()))?;
            let data =
                std::fs::read(entry).with_context(|| format!("cannot read {}", entry.display()))?;
            let project = Project::at(dir);
            match project
                .verify_proof(&text, &data, vkeys)
                .with_context(|| format!("{}", proof.display()))?
            {
                Ok((p, cp)) => {
                    println!(
                        "{} is entry {} of {} (checkpoint of size {})",
                        entry.display(),
                        p.index,
                        cp.origin,
                        cp.size
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("proof FAILED: {}: {e}", proof.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        LedgerCommand::Consistency { old, new } => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let c = Project::at(dir).consistency(&read(old)?, &read(new)?)?;
            let (a, b) = (c.old.size, c.new.size);
            if let Some(e) = c.broken {
                eprintln!("INCONSISTENT: checkpoint {b} does not extend checkpoint {a}: {e}");
                return Ok(ExitCode::from(1));
            }
            for h in &c.proof {
                println!("{}", base64::engine::general_purpose::STANDARD.encode(h));
            }
            eprintln!("checkpoint {b} extends checkpoint {a}");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify { vkeys } => {
            let l = open(dir)?;
            let mut verifiers = vec![Project::at(dir).checkpoint_key()?.verifier()];
            for v in vkeys {
                verifiers.push(NoteVerifier::parse(v).with_context(|| format!("--vkey {v}"))?);
            }
            let audit = l.verify(&verifiers)?;
            if audit.problems.is_empty() {
                println!(
                    "ledger OK: {} entries, {} checkpoints verified",
                    audit.entries, audit.checkpoints
                );
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &audit.problems {
                    eprintln!("TAMPERED: {p}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
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
