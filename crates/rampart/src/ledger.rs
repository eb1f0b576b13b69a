//! `rampart ledger ...`, `rampart init`, `rampart evidence` and
//! `rampart check`: the evidence log in `.rampart/` and what it says
//! about an artifact, over rampart-evidence and rampart-ledger.

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use rampart_core::GateKind;
use rampart_evidence::admission::{decide, Bar};
use rampart_evidence::Project;
use rampart_ledger::checkpoint::{Checkpoint, NoteVerifier};
use rampart_ledger::TlogProof;
use std::io::Read;
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

/// Trusted checkpoint keys: the given ones, else the ledger's own.
fn verifiers(dir: &Path, vkeys: &[String]) -> Result<Vec<NoteVerifier>> {
    let mut out = Vec::new();
    for v in vkeys {
        out.push(NoteVerifier::parse(v).with_context(|| format!("--vkey {v}"))?);
    }
    if out.is_empty() {
        let p = Project::at(dir).verifier_key_path();
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("no --vkey given and cannot read {}", p.display()))?;
        out.push(NoteVerifier::parse(&text).with_context(|| format!("{}", p.display()))?);
    }
    Ok(out)
}

/// Largest entry appended (attestations are kilobytes).
const MAX_ENTRY: u64 = 16 << 20;

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
const STARTER: &str = r#"# rampart.toml: what the gates check and what fails them.
# Docs: rampart --help, rampart rules, README.

# Findings at or above this severity fail a gate (exit 1):
# info, low, medium, high, critical.
fail_on = "medium"

# Per-rule overrides:
# [rules.SCAN-UNKNOWN-FORMAT]
# severity = "low"

# Accepted findings, each with its reason:
# [[suppress]]
# rule = "PICKLE-UNKNOWN-GLOBAL"
# path = "models/legacy/"
# reason = "reviewed on 2026-01-01: our own class"

# The pipeline run by `rampart run`, stage by stage.
[[stage]]
name = "model"

# Is this the model we signed? (`rampart keygen release`, then
# `rampart sign model --key release.key`)
# [[stage.gate]]
# gate = "verify"
# inputs = ["model"]
# key = "release.pub"

[[stage.gate]]
gate = "scan"
inputs = ["model"]

# Training data: no personal data left after `rampart data pii mask`,
# and no one re-identifiable by these columns.
# [[stage]]
# name = "data"
# [[stage.gate]]
# gate = "pii"
# inputs = ["data/train.masked.csv"]
# threshold = 0.5
# [[stage.gate]]
# gate = "risk"
# inputs = ["data/train.masked.csv"]
# quasi = ["age", "zip", "sex"]
# min_k = 5

# What `rampart check ARTIFACT` requires before deployment.
[admission]
require = ["scan"]
"#;

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
            let mut entries = Vec::new();
            for f in files {
                let mut data = Vec::new();
                let read = if f.as_os_str() == "-" {
                    std::io::stdin().take(MAX_ENTRY + 1).read_to_end(&mut data)
                } else {
                    std::fs::File::open(f)
                        .and_then(|h| h.take(MAX_ENTRY + 1).read_to_end(&mut data))
                };
                read.with_context(|| format!("cannot read {}", f.display()))?;
                if data.len() as u64 > MAX_ENTRY {
                    bail!("{}: over {MAX_ENTRY} bytes; a ledger entry is evidence, not the artifact (append its digest or attestation)", f.display());
                }
                entries.push(data);
            }
            let mut l = open(dir)?;
            if *one_by_one {
                for (e, f) in entries.iter().zip(files) {
                    for i in l.append(&[e.as_slice()])? {
                        println!("{i}\t{}", f.display());
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            for (i, f) in l.append(&refs)?.iter().zip(files) {
                println!("{i}\t{}", f.display());
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
                Some(i) => match l.entry(*i)? {
                    Some(data) => println!("{}", String::from_utf8_lossy(&data)),
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
            let p = TlogProof::parse(&text).with_context(|| format!("{}", proof.display()))?;
            let data =
                std::fs::read(entry).with_context(|| format!("cannot read {}", entry.display()))?;
            let verifiers = verifiers(dir, vkeys)?;
            match p.verify(&data, &verifiers) {
                Ok(cp) => {
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
            let l = open(dir)?;
            let verifiers = verifiers(dir, &[])?;
            let read = |p: &PathBuf| -> Result<Checkpoint> {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                Ok(Checkpoint::verify(&text, &verifiers)
                    .with_context(|| format!("{}", p.display()))?
                    .0)
            };
            let (a, b) = (read(old)?, read(new)?);
            let proof = l
                .tree()
                .consistency_proof(a.size, b.size)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match rampart_ledger::verify_consistency(a.size, b.size, &proof, &a.root, &b.root) {
                Ok(()) => {
                    for h in &proof {
                        println!("{}", base64::engine::general_purpose::STANDARD.encode(h));
                    }
                    eprintln!("checkpoint {} extends checkpoint {}", b.size, a.size);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!(
                        "INCONSISTENT: checkpoint {} does not extend checkpoint {}: {e}",
                        b.size, a.size
                    );
                    Ok(ExitCode::from(1))
                }
            }
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
        println!(
            "{} (sha256 {}): {} attestations",
            path.display(),
            ev.digest,
            ev.attestations.len()
        );
        for f in &ev.attestations {
            let verdict = match f.passed {
                Some(true) => "passed",
                Some(false) => "FAILED",
                None => "-",
            };
            println!(
                "  entry {:>6}  {:<8} {:<7} signature {}  {}",
                f.index,
                f.gate,
                verdict,
                if f.signature_ok { "ok" } else { "BAD" },
                if f.included {
                    "in the last checkpoint"
                } else {
                    "not in a checkpoint yet"
                }
            );
        }
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
    if d.admitted() {
        println!(
            "ADMITTED {} (sha256 {}): passing evidence for {}",
            path.display(),
            ev.digest,
            d.required.join(", ")
        );
    } else {
        println!(
            "REFUSED {} (sha256 {}): {}",
            path.display(),
            ev.digest,
            d.reasons.join("; ")
        );
    }
    Ok(crate::common::verdict(d.admitted()))
}
