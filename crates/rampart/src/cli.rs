use crate::progress::Bar;
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rampart_core::{render, write_atomic, Catalog, Check, GateKind, Policy, Report, Severity};
use rampart_scan::Scanner;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above the failing severity (--fail-on, default medium)
  1  findings at or above it
  2  usage, I/O or internal error (a file that cannot be read, a bad policy)";

const SCAN_EXAMPLES: &str = "\
Examples:
  rampart scan model.pt
  rampart scan ./checkpoints --format sarif --output scan.sarif
  rampart scan model.pkl --fail-on high --format json
  rampart rules PICKLE-EXEC          explain a finding

Exit codes:
  0  nothing at or above the failing severity (--fail-on, default medium)
  1  findings at or above it
  2  usage, I/O or internal error (a file that cannot be read, a bad policy)";

/// Security gates for every stage of the ML lifecycle.
///
/// Rampart scans model artifacts for code that runs when they are loaded,
/// and reports findings with stable rule ids and severities.
#[derive(Parser, Debug)]
#[command(name = "rampart", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan model files, folders and archives for code that runs on load.
    ///
    /// Every file is identified by its content, never its extension:
    /// pickles (protocols 0-5), PyTorch zip and legacy checkpoints,
    /// TorchScript, NumPy .npy/.npz, joblib, safetensors, GGUF (and its
    /// chat templates), Keras .keras/.h5, ONNX, TensorFlow SavedModel and
    /// GraphDef, TFLite, model-folder code and configs, and
    /// gzip/bz2/xz/lzma/zlib/zstd/lz4/zip/tar/7z wrappers, nested. Headers
    /// are read, tensor data is not. Folders are walked recursively;
    /// symbolic links are not followed. Files in no known format are listed
    /// as SCAN-UNKNOWN-FORMAT (info), never skipped silently.
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Explain every rule (description, fix, references), or one
    /// (`rampart rules PICKLE-EXEC`); `--short` lists one line per rule.
    Rules {
        /// A rule id to explain.
        id: Option<String>,
        /// A table for people, or JSON.
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
        /// One line per rule: id, default severity, summary.
        #[arg(long)]
        short: bool,
    },
    /// Write a signing key pair: PREFIX.key (private, mode 0600) and
    /// PREFIX.pub. Never overwrites.
    Keygen(crate::signing::KeygenArgs),
    /// Sign a model file or folder: an OpenSSF model-signing v1.0 bundle
    /// (Sigstore bundle v0.3, DSSE, in-toto) of every file's digest.
    #[command(after_help = crate::signing::SIGN_EXIT_CODES)]
    Sign(crate::signing::SignArgs),
    /// Verify a signature, then re-hash and compare: names the files
    /// modified, added, removed or renamed.
    #[command(after_help = crate::signing::SIGN_EXIT_CODES)]
    Verify(crate::signing::VerifyArgs),
    /// Print the manifest (every file's digest) as JSON, without signing.
    Digest(crate::signing::DigestArgs),
    /// Run the pipeline of rampart.toml: its stages in order ([[stage]]
    /// with [[stage.gate]] entries), each gate attested in the ledger;
    /// stops at the first failing stage unless --keep-going. Output as a
    /// table, JSON, JUnit XML or a self-contained HTML page.
    Run(crate::pipeline::RunArgs),
    /// Every attestation about an artifact (a file or folder, by digest)
    /// in the ledger: which gates it passed and failed, each signature and
    /// checkpoint inclusion checked. Exit 1 if a signature does not verify.
    Evidence {
        /// The artifact: a file or a folder, named by its digest.
        artifact: PathBuf,
        /// The ledger folder.
        #[arg(long, default_value = ".rampart")]
        ledger: PathBuf,
        /// A table for people, or JSON.
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
    },
    /// Admission: does this exact artifact have valid, passing evidence
    /// (signature verified, in the last checkpoint, latest run passed) for
    /// every required gate? Exit 0 or 1, with the reason.
    Check {
        /// The artifact: a file or a folder, named by its digest.
        artifact: PathBuf,
        /// Gates required, by the names rampart.toml uses: sign, scan,
        /// verify, pii, risk (e.g. scan,verify) [default: [admission]
        /// require in rampart.toml].
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(GateKind))]
        require: Vec<GateKind>,
        /// The ledger folder.
        #[arg(long, default_value = ".rampart")]
        ledger: PathBuf,
    },
    /// Data gates: personal data and secrets in datasets.
    Data(crate::data::DataArgs),
    /// Encrypt a file or folder in the age format (X25519 recipients or a
    /// passphrase), readable by the age and rage tools.
    ///
    /// Example: rampart encrypt data/ -o data.age -r age1...
    Encrypt(crate::crypt::EncryptArgs),
    /// Decrypt an age file (a folder comes back as a folder). Nothing is
    /// written unless the whole file decrypts and authenticates.
    ///
    /// Example: rampart decrypt data.age -o data/ -i key.txt
    Decrypt(crate::crypt::DecryptArgs),
    /// Make an age X25519 identity; prints its public key (the recipient).
    AgeKeygen(crate::crypt::AgeKeygenArgs),
    /// Start a project: a commented rampart.toml and a ledger with its
    /// keys in .rampart/. Never overwrites.
    Init,
    /// The tamper-evident evidence log (an RFC 6962 Merkle tree in SQLite,
    /// with C2SP signed checkpoints).
    Ledger(crate::ledger::LedgerArgs),
    /// Scan the bundled examples/ folder of benign and malicious samples and
    /// check every verdict against examples/expected.json.
    Demo {
        /// The examples folder (default: ./examples, else the one in the
        /// source tree this binary was built from).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files, folders or archives to scan.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also list every file and archive member examined: its format (from
    /// the content), size and tensor count where a header gives it. In the
    /// table before the findings, in JSON as `inventory`.
    #[arg(long)]
    inventory: bool,
    /// Record a signed attestation of this run in the ledger in DIR
    /// [default: .rampart when it holds a ledger].
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to FILE (atomically: the file is whole or absent).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Fail (exit 1) on findings at or above this severity [default: the
    /// policy's fail_on, else medium].
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Policy file [default: rampart.toml in the current folder or the
    /// nearest parent].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Colour in the table: auto (when stdout is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Format {
    Table,
    Json,
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum RulesFormat {
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn catalog() -> Catalog {
    Catalog::new(&[rampart_scan::RULES, rampart_table::RULES])
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan(&args),
        Command::Rules { id, format, short } => rules(id.as_deref(), format, short),
        Command::Demo { dir } => crate::demo::run(dir),
        Command::Keygen(a) => crate::signing::keygen(&a),
        Command::Sign(a) => crate::signing::sign(&a),
        Command::Verify(a) => crate::signing::verify(&a),
        Command::Digest(a) => crate::signing::digest(&a),
        Command::Ledger(a) => crate::ledger::run(&a),
        Command::Run(a) => crate::pipeline::run(&a),
        Command::Evidence {
            artifact,
            ledger,
            format,
        } => crate::attest::evidence(&artifact, &ledger, format == RulesFormat::Json),
        Command::Check {
            artifact,
            require,
            ledger,
        } => {
            let policy = load_policy(None)?;
            let required = if require.is_empty() {
                policy.admission.require.clone()
            } else {
                require
            };
            let bar = crate::attest::Bar::new(&policy);
            crate::attest::check(&artifact, &ledger, &required, &bar)
        }
        Command::Init => crate::ledger::init_project(),
        Command::Data(a) => crate::data::run(&a),
        Command::Encrypt(a) => crate::crypt::encrypt(&a),
        Command::Decrypt(a) => crate::crypt::decrypt(&a),
        Command::AgeKeygen(a) => crate::crypt::age_keygen(&a),
    }
}

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

/// Runs the scanner with the policy applied; errors for unreadable inputs.
pub fn scan_report(paths: &[PathBuf], policy: &Policy, quiet: bool) -> Result<Report> {
    let scanner = Scanner::from_policy(&policy.scan).map_err(|e| {
        let src = policy
            .source
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        anyhow::anyhow!("invalid policy {src}: {e}")
    })?;
    let bar = Bar::new(!quiet);
    let result = scanner.run(paths, &bar);
    bar.finish();
    let mut report = result.map_err(anyhow::Error::msg)?;
    policy.apply(&mut report);
    Ok(report)
}

fn scan(args: &ScanArgs) -> Result<ExitCode> {
    if let Some(o) = &args.out.output {
        crate::output::check(o, &args.paths)?;
    }
    let policy = load_policy(args.out.config.as_deref())?;
    let mut report = scan_report(&args.paths, &policy, args.out.quiet)?;
    if !args.inventory {
        report.inventory.clear();
    }
    let code = emit(&report, &policy, &args.out)?;
    if let Some(dir) = crate::attest::ledger_dir(args.ledger.as_deref()) {
        let fail_on = args.out.fail_on.unwrap_or(policy.fail_on);
        let policy_digest = match &policy.source {
            Some(p) => std::fs::read(p)
                .map(|b| crate::attest::sha256_hex(&b))
                .unwrap_or_default(),
            None => "default".into(),
        };
        let predicate = serde_json::json!({
            "passed": !report.fails(fail_on) && report.errors.is_empty(),
            "fail_on": fail_on,
            "counts": report.counts(),
            "policy_sha256": policy_digest,
        });
        let idx = crate::attest::record(&dir, "scan", &args.paths, predicate)?;
        eprintln!(
            "attestation: entry {idx} of the ledger in {}",
            dir.display()
        );
    }
    Ok(code)
}

/// Renders the report where asked and returns the gate's exit code.
fn emit(report: &Report, policy: &Policy, out: &OutputArgs) -> Result<ExitCode> {
    let fail_on = out.fail_on.unwrap_or(policy.fail_on);
    let color = match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            out.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = match out.format {
        Format::Table => render::table(report, fail_on, color),
        Format::Json => render::json(report, fail_on),
        Format::Sarif => render::sarif(report, &catalog()),
    };
    match &out.output {
        Some(path) => write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .context("cannot write to stdout")?;
        }
    }
    // Inputs that could not be read make the gate an error (2), after the
    // report of everything that could be read has been written.
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    if !report.errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    Ok(if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn rules(id: Option<&str>, format: RulesFormat, short: bool) -> Result<ExitCode> {
    let cat = catalog();
    let selected: Vec<&rampart_core::Rule> = match id {
        Some(id) => match cat.get(id) {
            Some(r) => vec![r],
            None => {
                let similar = cat.similar(id);
                let hint = if similar.is_empty() {
                    "run `rampart rules` to list every rule".to_string()
                } else {
                    format!("did you mean {}?", similar.join(", "))
                };
                bail!("no rule `{id}`; {hint}");
            }
        },
        None => cat.all().iter().collect(),
    };
    let mut s = String::new();
    match format {
        RulesFormat::Json => {
            s = serde_json::to_string_pretty(&selected)?;
            s.push('\n');
        }
        RulesFormat::Table if short => {
            for r in &selected {
                s.push_str(&format!(
                    "{:<24} {:<9} {}\n",
                    r.id,
                    r.default_severity.as_str(),
                    r.summary
                ));
            }
            s.push_str("\n`rampart rules ID` explains one rule; `rampart rules` explains all.\n");
        }
        RulesFormat::Table => {
            for (i, r) in selected.iter().enumerate() {
                if i > 0 {
                    s.push_str("\n────────\n\n");
                }
                s.push_str(&format!(
                    "{} ({}): {}\n\n",
                    r.id, r.name, r.default_severity
                ));
                s.push_str(&format!(
                    "{}\n\n{}\n\nFix: {}\n",
                    r.summary, r.description, r.fix
                ));
                if !r.references.is_empty() {
                    s.push_str("\nReferences:\n");
                    for refr in r.references {
                        s.push_str(&format!("  - {refr}\n"));
                    }
                }
            }
        }
    }
    std::io::stdout().lock().write_all(s.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
