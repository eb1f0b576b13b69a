//! `rampart data ...`: the data gates' arguments, over rampart-dataset
//! (which reads and checks) and rampart-gate (which records the PII and
//! risk gates as the pipeline does).

mod drift;
mod pii;
mod poison;
mod quality;

use anyhow::Result;
use clap::{Args, Subcommand};
use rampart_dataset::{pii::Direction, Reading};
use rampart_table::BadInput;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Personal data and secrets: find, mask, unmask.
    #[command(subcommand)]
    Pii(PiiCommand),
    /// Profile datasets in one streaming pass: per column the type, nulls,
    /// distinct values, min/max/mean/std, quantiles, top values and string
    /// lengths. Profiles are mergeable: `--merge` combines profiles of
    /// shards into the profile of the whole.
    ///
    /// Example: rampart data profile train.csv -o train.profile.json
    Profile(ProfileArgs),
    /// Propose expectations (TOML) from a dataset or its profile: types,
    /// nulls, uniqueness, ranges, allowed sets, lengths, means, row count,
    /// all with tolerances. Edit them and commit them.
    ///
    /// Example: rampart data suggest train.csv -o expectations.toml
    Suggest(SuggestArgs),
    /// Check a dataset against expectations in one streaming pass. Exit 1
    /// when any fails; failures list the expectation, what was observed
    /// and sample rows (line numbers; values of personal-data columns
    /// masked).
    ///
    /// Example: rampart data validate new.csv --expect expectations.toml
    Validate(ValidateArgs),
    /// Rows to drop before training. Checks run today: exact duplicates
    /// (values trimmed and lowercased), duplicates with conflicting
    /// labels (`--label`), leakage of rows that are also in a training set
    /// (`--leak-from`), outliers (`--outliers`, Isolation Forest), class
    /// imbalance and under-represented groups (`--groups`), label shift
    /// (`--reference`), backdoor triggers (with `--label`: a rare word or
    /// value whose rows nearly all carry one uncommon label), and near
    /// duplicates and near leaks (`--near 0.8`). Exit 1 on any
    /// finding; each names its rows by line. `--json` writes a report that
    /// `rampart data filter` applies.
    ///
    /// Example: rampart data poison eval.csv --label y --leak-from train.csv --json > report.json
    Poison(PoisonArgs),
    /// Drop the rows that a `rampart data poison --json` report names,
    /// keeping the format: the later copies of duplicates and near
    /// duplicates (the first stays), every row of a conflicting-label
    /// group, leaked and near-leaked rows, backdoor-trigger rows, outliers
    /// and label issues (`--kinds` narrows them).
    /// The report must be of this very file (its SHA-256 is checked). The
    /// output is written to a temporary file and renamed when complete.
    ///
    /// Example: rampart data filter eval.csv eval.clean.csv --drop-findings report.json
    Filter(FilterArgs),
    /// Re-identification risk: k-anonymity over quasi-identifier columns
    /// and l-diversity of a sensitive column. Exit 1 when k (or l) is
    /// below the minimum.
    ///
    /// Example: rampart data risk people.csv --quasi age,zip,sex --sensitive diagnosis --k 5
    Risk(RiskArgs),
    /// Drift between a reference and current data, column by column: the
    /// KS test for numbers, chi-squared for categories (p-values corrected
    /// for the number of columns, Benjamini-Hochberg by default), with
    /// PSI, Jensen-Shannon and normalised Wasserstein distances beside.
    /// Either side may be a dataset or a profile. Exit 1 when at least
    /// --drift-share of the tested columns drifted, or when columns were
    /// added or removed.
    ///
    /// Example: rampart data drift train.profile.json today.csv
    Drift(drift::DriftArgs),
}

#[derive(Subcommand, Debug)]
enum PiiCommand {
    /// Find personal data and secrets in CSV/TSV, JSON Lines, JSON,
    /// Parquet or text files (gzip or zstd too), and list the table
    /// columns that hold them. Exit 1 if anything at or above the score
    /// threshold is found, 2 on an error.
    ///
    /// Example: rampart data pii scan customers.csv --json
    Scan(ScanArgs),
    /// Write a copy of a dataset with personal data transformed as a
    /// policy says, in the same format. Written to a temporary file and
    /// renamed only when complete.
    ///
    /// Example: rampart data pii mask in.csv out.csv --policy mask.toml --key pii.key
    Mask(MaskArgs),
    /// Reverse `siv` tokens and `ff1` columns of a masked dataset (with the
    /// key and policy it was masked with). `hmac` pseudonyms cannot be
    /// reversed.
    Unmask(MaskArgs),
    /// Write a new random 32-byte masking key (hex, mode 0600). Never
    /// overwrites.
    Keygen {
        /// Where to write the key (a new file).
        path: PathBuf,
    },
}

/// The flags of the commands that find personal data.
#[derive(Args, Debug, Default)]
struct Masking {
    /// Masking policy (TOML): threshold, bad_input, encoding, max_bytes,
    /// and actions per entity and column. See docs/data-protection.md.
    #[arg(long, value_name = "TOML")]
    policy: Option<PathBuf>,
    /// Matches of personal data scoring below this (0 to 1) are ignored
    /// [default: the policy's, else 0.5].
    #[arg(long)]
    threshold: Option<f32>,
}

/// The flags of every command that reads datasets.
#[derive(Args, Debug)]
struct Common {
    /// Records that cannot be read (malformed rows, invalid UTF-8, lines
    /// over 16 MiB, invalid JSON). reject: read on, then fail with
    /// DATA-UNREAD naming them (exit 1, nothing written); skip: accept
    /// them, counted and listed; fail: stop at the first (exit 2).
    /// [default: reject, or bad_input in the --policy file of the
    /// commands that take one]
    #[arg(long, value_enum)]
    bad_input: Option<BadInput>,
    /// The text encoding of the input when it is not UTF-8 (cp1252,
    /// latin1, iso-8859-15, shift_jis, utf-16le... any WHATWG label).
    #[arg(long, value_name = "LABEL")]
    encoding: Option<String>,
    /// Most bytes read from a file after decompression; more is an error
    /// (a decompression bomb, or a file bigger than expected). [default:
    /// 1 TiB, or max_bytes in the --policy file of the commands that take
    /// one]
    #[arg(long)]
    max_bytes: Option<u64>,
    /// Ledger folder to record an attestation in [default: .rampart when
    /// it holds a ledger].
    #[arg(long)]
    ledger: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    gate: rampart_gate::PiiScan,
    #[command(flatten)]
    masking: Masking,
    #[command(flatten)]
    common: Common,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct MaskArgs {
    /// The dataset to read.
    input: PathBuf,
    /// Where to write the result, in the input's format (never the input
    /// itself).
    output: PathBuf,
    #[command(flatten)]
    masking: Masking,
    #[command(flatten)]
    common: Common,
    /// Key file for hmac, siv and ff1 (see `rampart data pii keygen`).
    #[arg(long)]
    key: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ProfileArgs {
    #[command(flatten)]
    gate: rampart_gate::Profile,
    #[command(flatten)]
    masking: Masking,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct SuggestArgs {
    /// A dataset, or a profile from `rampart data profile`.
    path: PathBuf,
    /// Where to write the expectations (TOML; never overwritten).
    #[arg(short, long)]
    output: PathBuf,
    /// Keep personal data among the values written as it is. By default
    /// the values in which the PII recognisers find personal data are
    /// masked (`***** **ith`): these files are meant to be shared and
    /// committed.
    #[arg(long)]
    keep_personal_data: bool,
    #[command(flatten)]
    masking: Masking,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    gate: rampart_gate::Validate,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct PoisonArgs {
    #[command(flatten)]
    gate: rampart_gate::Poison,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct FilterArgs {
    #[command(flatten)]
    gate: rampart_gate::Filter,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct RiskArgs {
    #[command(flatten)]
    gate: rampart_gate::RiskCheck,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: DataArgs) -> Result<ExitCode> {
    match a.command {
        DataCommand::Pii(PiiCommand::Scan(s)) => pii::scan(s),
        DataCommand::Pii(PiiCommand::Mask(m)) => pii::mask(m, Direction::Mask),
        DataCommand::Pii(PiiCommand::Unmask(m)) => pii::mask(m, Direction::Unmask),
        DataCommand::Pii(PiiCommand::Keygen { path }) => pii::keygen(&path),
        DataCommand::Risk(r) => quality::risk(r),
        DataCommand::Profile(p) => quality::profile(p),
        DataCommand::Suggest(a) => quality::suggest(a),
        DataCommand::Validate(a) => quality::validate(a),
        DataCommand::Poison(a) => poison::poison(a),
        DataCommand::Filter(a) => poison::filter(a),
        DataCommand::Drift(a) => drift::drift(a),
    }
}

/// Reads `--policy` when given; the flags override what it says.
fn settings(m: &Masking, c: &Common) -> Result<rampart_dataset::MaskingPolicy> {
    let s = match &m.policy {
        Some(p) => rampart_dataset::MaskingPolicy::load(p)?,
        None => Default::default(),
    };
    let mut s = s.with_threshold(m.threshold)?;
    s.reading = c.apply(s.reading)?;
    Ok(s)
}

impl Common {
    /// The flags over `reading`.
    fn apply(&self, reading: Reading) -> Result<Reading> {
        Ok(reading.with_flags(self.bad_input, self.encoding.as_deref(), self.max_bytes)?)
    }

    /// The reading settings of a command without a policy file.
    fn reading(&self) -> Result<Reading> {
        self.apply(Reading::default())
    }
}

/// Runs a data gate: its report as JSON (`json`) or text on stdout, its
/// warnings on stderr, its attestation in the ledger of `common`. Returns
/// whether it passed.
fn run_gate(
    gate: &dyn rampart_gate::Gate,
    json: bool,
    common: &Common,
    policy_sha256: &str,
) -> Result<bool> {
    use std::io::Write;
    let project = crate::common::project(common.ledger.as_deref())?;
    let record =
        |o: &rampart_gate::Outcome| crate::common::record(project.as_ref(), o, policy_sha256);
    let watch = crate::progress::Watch::default();
    let ctx = rampart_gate::Context {
        policy: &rampart_core::Policy::default(),
        progress: &rampart_core::NoProgress,
        watch: &watch,
    };
    let started = rampart_evidence::Started::now();
    let outcome = match gate.run(&ctx) {
        // Attested as failed, as the pipeline attests it.
        Err(e) if e.is_unread() => {
            record(&rampart_gate::unread(gate, &e, started))?;
            return Err(e.into());
        }
        r => r?,
    };
    // Recorded before anything is printed: one document on stdout.
    record(&outcome)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !(json && outcome.report.write_json(&mut out)?) {
        write!(out, "{}", outcome.report.text())?;
    } else {
        writeln!(out)?;
    }
    out.flush()?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    Ok(outcome.passed)
}
