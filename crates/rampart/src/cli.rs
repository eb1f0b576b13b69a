//! The command line: every command, its help, and where it goes.

use crate::scan::TableOrJson;
use anyhow::Result;
use clap::{Parser, Subcommand};
use rampart_core::GateKind;
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit codes of every gate.
const GATE_EXIT_CODES: &str = "\
Exit codes:
  0  the gate passed (every gate, for `run`)
  1  it failed: findings, personal data, records that could not be read
  2  it could not run: usage, a missing or unreadable file, a bad policy";

/// Security gates for every stage of the ML lifecycle.
///
/// Rampart finds personal data, re-identification risk, poisoned rows and
/// drift in datasets, scans model files for code that runs when they are
/// loaded, signs and verifies models, records every gate run as a signed
/// attestation in a tamper-evident ledger, and admits an artifact only
/// with passing evidence. Start with `rampart init`; docs/ explains each
/// command family.
#[derive(Parser, Debug)]
#[command(name = "rampart", version, after_help = GATE_EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Whether this runs the gateway (which handles its own signals).
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
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
    #[command(after_help = crate::scan::EXAMPLES)]
    Scan(crate::scan::ScanArgs),
    /// Explain every rule (description, fix, references), or one
    /// (`rampart rules PICKLE-EXEC`); `--short` lists one line per rule.
    Rules {
        /// A rule id to explain.
        id: Option<String>,
        /// A table for people, or JSON.
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
        /// One line per rule: id, default severity, summary.
        #[arg(long)]
        short: bool,
    },
    /// Write a signing key pair: PREFIX.key (private, mode 0600) and
    /// PREFIX.pub. Never overwrites.
    Keygen(crate::sign::KeygenArgs),
    /// Sign a model file or folder: an OpenSSF model-signing v1.0 bundle
    /// (Sigstore bundle v0.3, DSSE, in-toto) of every file's digest.
    #[command(after_help = crate::sign::SIGN_EXIT_CODES)]
    Sign(rampart_gate::SignRequest),
    /// Verify a signature, then re-hash and compare: names the files
    /// modified, added, removed or renamed.
    #[command(after_help = crate::sign::SIGN_EXIT_CODES)]
    Verify(crate::sign::VerifyArgs),
    /// Print the manifest (every file's digest) as JSON, without signing.
    Digest(crate::sign::DigestArgs),
    /// Run the pipeline of rampart.toml: its stages in order ([[stage]]
    /// with [[stage.gate]] entries), each gate attested in the ledger;
    /// stops at the first failing stage unless --keep-going. Output as a
    /// table, JSON, JUnit XML, SARIF 2.1.0 or a self-contained HTML page.
    #[command(after_help = GATE_EXIT_CODES)]
    Run(crate::run::RunArgs),
    /// Every attestation about an artifact (a file or folder, by digest)
    /// in the ledger: which gates it passed and failed, each signature and
    /// checkpoint inclusion checked. Exit 1 if a signature does not verify.
    #[command(
        after_help = "Exit codes:\n  0  every attestation found verifies\n  1  a signature does not verify\n  2  the artifact or the ledger cannot be read"
    )]
    Evidence {
        /// The artifact: a file or a folder, named by its digest.
        artifact: PathBuf,
        /// The ledger folder.
        #[arg(long, default_value = ".rampart")]
        ledger: PathBuf,
        /// A table for people, or JSON.
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Admission: does this exact artifact have valid, passing evidence
    /// (signature verified, in the last checkpoint, latest run passed) for
    /// every required gate? Exit 0 or 1, with the reason.
    #[command(
        after_help = "Exit codes:\n  0  ADMITTED: passing, signed, checkpointed evidence for every required gate\n  1  REFUSED, with every reason\n  2  the artifact, the ledger or the policy cannot be read"
    )]
    Check {
        /// The artifact: a file or a folder, named by its digest.
        artifact: PathBuf,
        /// Gates required, by the names rampart.toml uses: sign, scan,
        /// verify, pii, risk, eval (e.g. scan,verify) [default: [admission]
        /// require in rampart.toml].
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(GateKind))]
        require: Vec<GateKind>,
        /// The ledger folder.
        #[arg(long, default_value = ".rampart")]
        ledger: PathBuf,
    },
    /// Data gates: personal data and secrets, re-identification risk,
    /// profiles and expectations, poisoning and drift in datasets.
    #[command(after_help = GATE_EXIT_CODES)]
    Data(crate::data::DataArgs),
    /// Evaluation gates: run an ONNX model on every row of its evaluation
    /// data (in process, on all cores) and measure it as scikit-learn does
    /// (accuracy, F1, ROC AUC, log loss, calibration... or a regressor's
    /// errors), each with a bootstrap confidence interval; fairness by
    /// group of sensitive features as Fairlearn defines it (demographic
    /// parity, equalized odds, equal opportunity), AIF360's disparate
    /// impact and the four-fifths rule. Thresholds (--min, --max) fail the
    /// gate; a judged run is attested about the model's and the data's
    /// digests, for `rampart check` and registry promotion.
    #[command(after_help = crate::eval::EXAMPLES)]
    Eval(Box<crate::eval::EvalArgs>),
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
    /// The model registry: versions bound to their digest and evidence,
    /// aliases moved only by promotions that meet rampart.toml's
    /// [registry] rules, every change signed and in the ledger.
    #[command(
        after_help = "Exit codes:\n  0  done\n  1  refused (policy, approvals, a concurrent change, changed bytes) or, for verify, a mismatch\n  2  an error: a missing file, key, store or ledger"
    )]
    Registry(crate::registry::RegistryArgs),
    /// The gateway: serves registry models that passed [admission], to
    /// callers with an API key and a role, within their limits (OIP v2).
    ///
    /// Example: rampart serve --listen 127.0.0.1:8080
    #[command(
        after_help = "Exit codes:\n  0  stopped cleanly (serve), every model served (check-config), done (keys)\n  1  check-config: a configured model would be refused\n  2  an error: the policy, the ledger, the store, the address"
    )]
    Serve(crate::serve::ServeArgs),
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

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => crate::scan::scan(&args),
        Command::Rules { id, format, short } => crate::scan::rules(id.as_deref(), format, short),
        Command::Demo { dir } => crate::demo::run(dir, &|args: &[&str]| {
            run(Cli::try_parse_from(
                std::iter::once("rampart").chain(args.iter().copied()),
            )?)
        }),
        Command::Keygen(a) => crate::sign::keygen(&a),
        Command::Sign(a) => crate::sign::sign(&a),
        Command::Verify(a) => crate::sign::verify(&a),
        Command::Digest(a) => crate::sign::digest(&a),
        Command::Ledger(a) => crate::ledger::run(&a),
        Command::Registry(a) => crate::registry::run(a),
        Command::Serve(a) => crate::serve::run(a),
        Command::Run(a) => crate::run::run(&a),
        Command::Evidence {
            artifact,
            ledger,
            format,
        } => crate::ledger::evidence(&artifact, &ledger, format == TableOrJson::Json),
        Command::Check {
            artifact,
            require,
            ledger,
        } => crate::ledger::check(&artifact, &ledger, &require),
        Command::Init => crate::ledger::init_project(),
        Command::Data(a) => crate::data::run(a),
        Command::Eval(a) => crate::eval::run(*a),
        Command::Encrypt(a) => crate::crypt::encrypt(&a),
        Command::Decrypt(a) => crate::crypt::decrypt(&a),
        Command::AgeKeygen(a) => crate::crypt::age_keygen(&a),
    }
}
