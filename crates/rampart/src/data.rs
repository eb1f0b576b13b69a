//! `rampart data ...`: personal data in datasets. `pii scan` finds it
//! (value by value, with columns classified), `pii mask` rewrites a
//! dataset with it removed or pseudonymised, `pii unmask` reverses the
//! reversible tokens, `risk` measures re-identification risk
//! (k-anonymity, l-diversity). Datasets are read by `rampart-table`:
//! streamed, bounded, in their own format.

mod drift;
mod labels;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use rampart_pii::columns::{scan_cell, Columns, PiiColumn};
use rampart_pii::transform::{apply, Action, Keys, Policy};
use rampart_table::{BadInput, Cell, Options, Source, Visitor};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
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
    /// keeping the format: the repeats of duplicates (the first copy
    /// stays), every row of a conflicting-label group, every leaked row.
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
    /// and actions per entity and column. See the README.
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
    bad_input: Option<BadInputArg>,
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

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BadInputArg {
    Reject,
    Skip,
    Fail,
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Datasets (CSV/TSV, JSON Lines, JSON, Parquet, text; gzip or zstd
    /// too).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    masking: Masking,
    #[command(flatten)]
    common: Common,
    /// JSON output.
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    /// Most matches listed (all are counted); 0 lists every one.
    #[arg(long, default_value_t = 10_000)]
    max_matches: usize,
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
    /// Datasets, or with --merge, profiles.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Where to write the profile (JSON; written atomically).
    #[arg(short, long)]
    output: PathBuf,
    /// The inputs are profiles to merge.
    #[arg(long)]
    merge: bool,
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
    /// The dataset to check.
    path: PathBuf,
    /// The expectations (TOML).
    #[arg(long)]
    expect: PathBuf,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct PoisonArgs {
    /// The dataset to check.
    path: PathBuf,
    /// The label column: left out of the row comparison, and compared
    /// within groups of duplicates.
    #[arg(long)]
    label: Option<String>,
    /// A training set: rows of PATH also in it are reported as leaks.
    #[arg(long)]
    leak_from: Option<PathBuf>,
    /// Also find near duplicates (and, with --leak-from, rows near a
    /// training row): rows whose values and words overlap at least this
    /// much (Jaccard similarity, estimated by MinHash with LSH), e.g. 0.8.
    #[arg(long)]
    near: Option<f64>,
    /// A clean dataset of the same kind: a label distribution that moved
    /// from its by more than --max-label-shift is a finding.
    #[arg(long, requires = "label")]
    reference: Option<PathBuf>,
    /// The largest accepted change of the label distribution against
    /// --reference, in total variation: the share of rows whose label
    /// would have to change.
    #[arg(long, default_value_t = 0.1, requires = "reference")]
    max_label_shift: f64,
    /// Columns that name groups (sex, region, age band): a value held by
    /// fewer than --min-share of the rows is an under-represented group.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// The smallest share of rows a label (class imbalance) or a group
    /// value should have.
    #[arg(long, default_value_t = 0.05)]
    min_share: f64,
    /// Also look for outliers with an Isolation Forest over every column
    /// but the label: numbers as they are, columns of at most 1,000
    /// distinct values (and at most one per two rows) by frequency,
    /// others (ids, free text) left out.
    /// Adds two reads of the file: one to type the columns, one for the
    /// features.
    #[arg(long)]
    outliers: bool,
    /// Rows scoring at least this are reported as outliers (scores run
    /// from 0 to 1; ordinary rows score about 0.5 or less).
    #[arg(long, default_value_t = 0.65, requires = "outliers")]
    outlier_threshold: f64,
    /// Trees in the forest (1 to 10,000).
    #[arg(long, default_value_t = 100, requires = "outliers",
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    trees: u16,
    /// Seed of the forest: the same seed gives the same scores.
    #[arg(long, default_value_t = 0, requires = "outliers")]
    seed: u64,
    /// Write every row's outlier score to this CSV (record, line, score).
    #[arg(long, requires = "outliers")]
    scores: Option<PathBuf>,
    /// Also find label errors by confident learning (as cleanlab's
    /// find_label_issues): out-of-fold class probabilities from a
    /// logistic regression trained inside Rampart on the features that
    /// --outliers uses (numbers standardised, categories one-hot), then
    /// rows whose label those probabilities contradict.
    #[arg(long, requires = "label")]
    label_issues: bool,
    /// Use these out-of-fold class probabilities instead of training a
    /// model: a CSV (or any table) with one column per class, named by
    /// the label values, and one row per row of PATH, in order.
    #[arg(long, requires = "label")]
    pred_probs: Option<PathBuf>,
    /// Folds of the cross-validation for --label-issues (2 to 20).
    #[arg(long, default_value_t = 5,
          value_parser = clap::value_parser!(u8).range(2..=20))]
    folds: u8,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct FilterArgs {
    /// The dataset the report was made of.
    input: PathBuf,
    /// Where to write the rows kept, in the input's format.
    output: PathBuf,
    /// A report of `rampart data poison INPUT --json`.
    #[arg(long)]
    drop_findings: PathBuf,
    /// Only these kinds of findings, comma-separated; all by default.
    #[arg(long, value_delimiter = ',', value_parser = [
        "duplicate", "conflicting-labels", "leak", "near-duplicate",
        "near-leak", "outlier", "backdoor-trigger", "label-issue",
    ])]
    kinds: Vec<String>,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct RiskArgs {
    /// The dataset to measure.
    path: PathBuf,
    /// Quasi-identifier columns, comma-separated (e.g. age,zip,sex).
    #[arg(long, value_delimiter = ',', required = true)]
    quasi: Vec<String>,
    /// A sensitive column whose values should be diverse in every class.
    #[arg(long)]
    sensitive: Option<String>,
    /// Smallest acceptable equivalence class.
    #[arg(long, default_value_t = 5)]
    k: u64,
    /// Fewest acceptable distinct sensitive values per class.
    #[arg(long, default_value_t = 2)]
    l: u64,
    /// Most row numbers listed for classes under k.
    #[arg(long, default_value_t = 20)]
    max_rows: usize,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: &DataArgs) -> Result<ExitCode> {
    match &a.command {
        DataCommand::Pii(PiiCommand::Scan(s)) => scan(s),
        DataCommand::Pii(PiiCommand::Mask(m)) => mask(m, false),
        DataCommand::Pii(PiiCommand::Unmask(m)) => mask(m, true),
        DataCommand::Pii(PiiCommand::Keygen { path }) => keygen(path),
        DataCommand::Risk(r) => risk(r),
        DataCommand::Profile(p) => profile(p),
        DataCommand::Suggest(a) => suggest(a),
        DataCommand::Poison(a) => poison(a),
        DataCommand::Filter(a) => filter(a),
        DataCommand::Validate(a) => validate(a),
        DataCommand::Drift(a) => drift::drift(a),
    }
}

/// The policy, with the command line's overrides applied.
fn load_policy(m: &Masking, c: &Common) -> Result<(Policy, String)> {
    let (mut policy, digest) = match &m.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the policy {}", p.display()))?;
            let policy =
                Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            (policy, crate::attest::sha256_hex(text.as_bytes()))
        }
        None => (Policy::default(), "default".into()),
    };
    if let Some(t) = m.threshold {
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold {t} is not between 0 and 1");
        }
        policy.threshold = t;
    }
    if let Some(m) = c.max_bytes {
        policy.max_bytes = Some(m);
    }
    if let Some(b) = c.bad_input {
        policy.bad_input = match b {
            BadInputArg::Reject => "reject",
            BadInputArg::Skip => "skip",
            BadInputArg::Fail => "fail",
        }
        .into();
    }
    if let Some(e) = &c.encoding {
        policy.encoding = Some(e.clone());
    }
    if let Some(label) = &policy.encoding {
        encoding(label)?;
    }
    Ok((policy, digest))
}

/// The encoding a WHATWG label names (`cp1252`, `latin1`, `utf-16le`...).
/// A policy's encoding label, checked: an unknown label is an error here,
/// not a silent read as UTF-8 later.
pub fn checked_encoding(label: Option<&str>) -> Result<Option<String>> {
    label
        .map(|l| encoding(l).map(|_| l.to_string()))
        .transpose()
}

fn encoding(label: &str) -> Result<&'static rampart_table::Encoding> {
    rampart_table::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown encoding {label:?}: give a WHATWG label such as cp1252, latin1, iso-8859-15, shift_jis, gbk or utf-16le"
        )
    })
}

fn options(policy: &Policy) -> Options {
    Options {
        bad_input: match policy.bad_input.as_str() {
            "fail" => BadInput::Fail,
            "skip" => BadInput::Skip,
            _ => BadInput::Reject,
        },
        max_bytes: policy.max_bytes.unwrap_or(Options::default().max_bytes),
        // Checked when the policy was loaded.
        encoding: policy.encoding.as_deref().and_then(|l| encoding(l).ok()),
        ..Options::default()
    }
}

/// Runs `read` with the policy's reading options and a progress bar in
/// bytes and percent of the file on stderr (drawn when it is a terminal).
fn with_bar<T>(
    policy: &Policy,
    message: &str,
    read: impl FnOnce(&Options) -> Result<T>,
) -> Result<T> {
    let bar = crate::progress::Bar::new(true);
    rampart_core::Progress::set_message(&bar, message);
    let o = Options {
        progress: Some(rampart_table::ProgressHook(std::sync::Arc::new(
            bar.clone(),
        ))),
        ..options(policy)
    };
    let result = read(&o);
    bar.finish();
    result
}

/// Names on stderr, by line, the records of `path` that were skipped.
fn warn_skipped(path: &Path, summary: &rampart_table::Summary) {
    for p in &summary.problems {
        eprintln!(
            "warning: {}:{}: {} (skipped)",
            path.display(),
            p.line,
            p.message
        );
    }
}

/// Columns a command line, policy or expectation names must be columns
/// of the file: a typo is an error naming the column, where it was named
/// (`--label`, `[columns]` of mask.toml...) and the nearest real name,
/// never a check that silently sees nothing.
fn require_columns<'a>(
    path: &Path,
    have: &[String],
    named: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    for (from, column) in named {
        if have.is_empty() {
            bail!(
                "{}: {from} {column:?}: the file has no columns (is it empty, or plain text?)",
                path.display()
            );
        }
        if !have.iter().any(|h| h == column) {
            bail!(
                "{}: {from} {column:?}: no such column{}; the columns are {}",
                path.display(),
                rampart_core::did_you_mean(column, have.iter().map(String::as_str)),
                have.join(", ")
            );
        }
    }
    Ok(())
}

fn detect(path: &Path) -> Result<Source> {
    if path.is_dir() {
        bail!("{} is a folder: give the dataset files", path.display());
    }
    Ok(rampart_table::detect(path)?)
}

fn record_attestation(
    c: &Common,
    gate: &str,
    inputs: &[PathBuf],
    predicate: serde_json::Value,
) -> Result<()> {
    if let Some(dir) = crate::attest::ledger_dir(c.ledger.as_deref()) {
        let idx = crate::attest::record(&dir, gate, inputs, predicate)?;
        eprintln!(
            "attestation: entry {idx} of the ledger in {}",
            dir.display()
        );
    }
    Ok(())
}

fn shared_str<S: serde::Serializer>(v: &std::rc::Rc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

#[derive(Serialize)]
pub struct Hit {
    /// Shared by every match of a file.
    #[serde(serialize_with = "shared_str")]
    file: std::rc::Rc<str>,
    line: u64,
    record: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    column: String,
    /// Byte offset of the match in the value (1-based) and just past it.
    start: usize,
    end: usize,
    entity: &'static str,
    score: f32,
    /// The value with all but its last four characters masked.
    masked: String,
}

struct ScanVisitor<'a> {
    file: std::rc::Rc<str>,
    threshold: f32,
    max: usize,
    hits: &'a mut Vec<Hit>,
    counts: &'a mut BTreeMap<&'static str, u64>,
    columns: Columns,
}

impl Visitor for ScanVisitor<'_> {
    fn header(&mut self, name: &Cell) -> Option<String> {
        self.cell(name)
    }

    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let found = if cell.column.is_empty() {
            rampart_pii::scan(cell.value, None, self.threshold)
        } else {
            scan_cell(cell.value, cell.column, self.threshold)
        };
        if !cell.column.is_empty() {
            self.columns.observe(cell.column, cell.value, &found);
        }
        for m in found {
            *self.counts.entry(m.entity).or_default() += 1;
            if self.max == 0 || self.hits.len() < self.max {
                self.hits.push(Hit {
                    file: self.file.clone(),
                    line: cell.line,
                    record: cell.record,
                    column: cell.column.to_string(),
                    start: m.start + 1,
                    end: m.end,
                    entity: m.entity,
                    score: m.score,
                    masked: rampart_pii::columns::mask_example(
                        cell.value.get(m.start..m.end).unwrap_or(""),
                    ),
                });
            }
        }
        None
    }
}

#[derive(Serialize)]
pub struct FileSummary {
    file: String,
    format: &'static str,
    records: u64,
    skipped: u64,
    problems: Vec<String>,
    pii_columns: Vec<PiiColumn>,
}

/// Matches listed, counts by entity, and per-file summaries.
pub type ScanResult = (Vec<Hit>, BTreeMap<&'static str, u64>, Vec<FileSummary>);

/// Scans datasets as `policy` says (threshold, bad input).
pub fn scan_files(paths: &[PathBuf], policy: &Policy, max_matches: usize) -> Result<ScanResult> {
    let mut hits = Vec::new();
    let mut counts = BTreeMap::new();
    let mut files = Vec::new();
    for path in paths {
        let source = detect(path)?;
        let file = path.display().to_string();
        let mut v = ScanVisitor {
            file: file.as_str().into(),
            threshold: policy.threshold,
            max: max_matches,
            hits: &mut hits,
            counts: &mut counts,
            columns: Columns::default(),
        };
        let summary = with_bar(policy, &format!("scanning {file}"), |o| {
            Ok(rampart_table::process(&source, o, &mut v, None)?)
        })?;
        files.push(FileSummary {
            format: source.format.name(),
            records: summary.records,
            skipped: summary.skipped,
            problems: summary
                .problems
                .iter()
                .map(|p| format!("{file}:{}: {}", p.line, p.message))
                .collect(),
            pii_columns: v.columns.report(),
            file,
        });
    }
    Ok((hits, counts, files))
}

/// The attestation predicate of a PII scan (counts and columns, never
/// values).
pub fn scan_predicate(
    counts: &BTreeMap<&'static str, u64>,
    files: &[FileSummary],
    policy: &Policy,
    policy_digest: &str,
) -> serde_json::Value {
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|f| {
            let columns: Vec<serde_json::Value> = f
                .pii_columns
                .iter()
                .map(|c| json!({"column": c.column, "entity": c.entity, "share": c.share}))
                .collect();
            json!({"file": f.file, "format": f.format, "records": f.records, "skipped": f.skipped, "pii_columns": columns})
        })
        .collect();
    json!({
        "passed": counts.is_empty(),
        "counts": counts,
        "threshold": policy.threshold,
        "policy_sha256": policy_digest,
        "files": files,
    })
}

fn scan(a: &ScanArgs) -> Result<ExitCode> {
    let (policy, policy_digest) = load_policy(&a.masking, &a.common)?;
    let (hits, counts, files) = scan_files(&a.paths, &policy, a.max_matches)?;
    if a.json {
        // Serialized straight from the structs, streamed: listing every
        // match of a big file must not build a JSON tree in memory first.
        #[derive(Serialize)]
        struct Output<'a> {
            files: &'a [FileSummary],
            counts: &'a BTreeMap<&'static str, u64>,
            matches: &'a [Hit],
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer_pretty(
            &mut out,
            &Output {
                files: &files,
                counts: &counts,
                matches: &hits,
            },
        )?;
        writeln!(out)?;
        out.flush()?;
    } else {
        print_scan(&files, &hits, &counts);
    }
    let predicate = scan_predicate(&counts, &files, &policy, &policy_digest);
    record_attestation(&a.common, "pii-scan", &a.paths, predicate)?;
    Ok(if counts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_scan(files: &[FileSummary], hits: &[Hit], counts: &BTreeMap<&'static str, u64>) {
    for h in hits {
        let column = if h.column.is_empty() {
            String::new()
        } else {
            format!(" [{}]", h.column)
        };
        println!(
            "{}:{}:{}{column}  {:<16} {:.2}  {}",
            h.file, h.line, h.start, h.entity, h.score, h.masked
        );
    }
    for f in files {
        if !f.pii_columns.is_empty() {
            println!(
                "\n{} ({}, {} records): columns with personal data",
                f.file, f.format, f.records
            );
            for c in &f.pii_columns {
                println!(
                    "  {:<24} {:<16} {:>5.1}% of {} values{}  e.g. {}",
                    c.column,
                    c.entity,
                    c.share * 100.0,
                    c.values,
                    if c.name_hint { ", named so" } else { "" },
                    c.examples.join(", ")
                );
            }
        }
        for p in &f.problems {
            eprintln!("warning: {p} (skipped)");
        }
        if f.skipped as usize > f.problems.len() {
            eprintln!("warning: {}: {} records skipped in all", f.file, f.skipped);
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "{} matches{}{}",
        counts.values().sum::<u64>(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(": {}", summary.join(", "))
        },
        skipped_note(files.iter().map(|f| f.skipped).sum())
    );
}

/// What masking did, by target (`entity:X` or `column:Y`) and action.
type Tally = BTreeMap<(String, String), u64>;

fn action_name(a: &Action) -> String {
    match a {
        Action::Mask { keep } => format!("mask(keep {keep})"),
        Action::Generalise { to } => format!("generalise({to:?})").to_lowercase(),
        other => format!("{other:?}").to_lowercase(),
    }
}

struct MaskVisitor<'a> {
    policy: &'a Policy,
    keys: Option<&'a Keys>,
    unmask: bool,
    tally: Tally,
    /// Values that could not be transformed and were redacted instead.
    failed: Vec<String>,
    failed_count: u64,
    /// Unmasking: values that could not be opened (listed, counted).
    refused: Vec<String>,
    refused_count: u64,
}

impl MaskVisitor<'_> {
    fn count(&mut self, target: String, action: &Action) {
        *self.tally.entry((target, action_name(action))).or_default() += 1;
    }

    fn fail(&mut self, cell: &Cell, why: String) {
        if self.unmask {
            // Unmasking never passes on what it could not open.
            if self.refused.len() < 20 {
                self.refused.push(format!(
                    "line {} column {:?}: {why}",
                    cell.line, cell.column
                ));
            }
            self.refused_count += 1;
            return;
        }
        self.failed_count += 1;
        if self.failed.len() < 20 {
            self.failed.push(format!(
                "line {} column {:?}: {why}; the value was redacted",
                cell.line, cell.column
            ));
        }
    }

    fn unmask(&mut self, cell: &Cell) -> Option<String> {
        let keys = self.keys?;
        let mut value = cell.value.to_string();
        let mut changed = false;
        if self.policy.columns.get(cell.column) == Some(&Action::Ff1) {
            match keys.ff1(cell.value, cell.column, true) {
                Ok(v) => {
                    value = v;
                    changed = true;
                    self.count(format!("column:{}", cell.column), &Action::Ff1);
                }
                Err(e) => self.fail(cell, e.0),
            }
        }
        if value.contains("siv:") {
            let re = siv_token_pattern()?;
            let (mut opened, mut bad) = (0u64, 0u64);
            let replaced = re.replace_all(&value, |c: &regex::Captures| {
                let token = c.get(0).map_or("", |m| m.as_str());
                match keys.siv_open(token) {
                    Some(v) => {
                        opened += 1;
                        v
                    }
                    None => {
                        bad += 1;
                        token.to_string()
                    }
                }
            });
            if bad > 0 {
                self.fail(
                    cell,
                    format!(
                        "{bad} siv: token(s) do not authenticate (another key, or an edited token)"
                    ),
                );
            }
            if opened > 0 {
                value = replaced.into_owned();
                changed = true;
                *self
                    .tally
                    .entry(("tokens".into(), "siv".into()))
                    .or_default() += opened;
            }
        }
        changed.then_some(value)
    }
}

fn siv_token_pattern() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"siv:[A-Za-z0-9_-]{22,}").ok())
        .as_ref()
}

impl Visitor for MaskVisitor<'_> {
    fn header(&mut self, name: &Cell) -> Option<String> {
        self.cell(name)
    }

    fn verdict(&self) -> Result<(), String> {
        if self.refused_count == 0 {
            return Ok(());
        }
        Err(format!(
            "{} values could not be unmasked, so nothing was written: {}{}; unmask with the key (and policy) the data was masked with",
            self.refused_count,
            self.refused.join("; "),
            if self.refused_count > self.refused.len() as u64 { "; ..." } else { "" }
        ))
    }

    fn keep_column(&self, column: &str) -> bool {
        self.unmask || self.policy.columns.get(column) != Some(&Action::Drop)
    }

    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if self.unmask {
            return self.unmask(cell);
        }
        if let Some(action) = self.policy.columns.get(cell.column) {
            let hint = rampart_pii::columns::name_hint(cell.column).unwrap_or("VALUE");
            if cell.value.is_empty() || *action == Action::Keep {
                return None;
            }
            return match apply(action, cell.value, hint, cell.column, self.keys) {
                Ok(v) => {
                    self.count(format!("column:{}", cell.column), action);
                    v
                }
                Err(e) => {
                    self.fail(cell, e.0);
                    Some(format!("<{hint}>"))
                }
            };
        }
        let found = if cell.column.is_empty() {
            rampart_pii::scan(cell.value, None, self.policy.threshold)
        } else {
            scan_cell(cell.value, cell.column, self.policy.threshold)
        };
        if found.is_empty() {
            return None;
        }
        let mut out = cell.value.to_string();
        let mut changed = false;
        // Disjoint spans, right to left, so that earlier offsets stay valid.
        for m in rampart_pii::disjoint(found).iter().rev() {
            let action = self.policy.entity_action(m.entity).clone();
            let Some(span) = cell.value.get(m.start..m.end) else {
                continue;
            };
            let new = match apply(&action, span, m.entity, cell.column, self.keys) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    self.fail(cell, e.0);
                    format!("<{}>", m.entity)
                }
            };
            if out.get(m.start..m.end).is_none() {
                self.fail(cell, "a match off a character boundary".into());
                return Some(format!("<{}>", m.entity));
            }
            out.replace_range(m.start..m.end, &new);
            changed = true;
            self.count(format!("entity:{}", m.entity), &action);
        }
        changed.then_some(out)
    }
}

/// Rewrites `source` through `visitor` into `output`, in the same format
/// (gzip-compressed when the input was): into a temporary file beside
/// `output`, renamed only once complete, so that a failure never leaves a
/// half-written file that looks finished.
fn rewrite(
    source: &rampart_table::Source,
    policy: &Policy,
    visitor: &mut dyn Visitor,
    output: &Path,
    verb: &str,
    must_have: &[(&str, &str)],
) -> Result<rampart_table::Summary> {
    let tmp = crate::crypt::partial_beside(output)?;
    let buffered = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
    let message = format!("{verb} {}", source.path.display());
    let summary = with_bar(policy, &message, |o| match source.compression {
        rampart_table::Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::default());
            let s = rampart_table::process(source, o, visitor, Some(&mut gz))?;
            gz.finish()?.flush()?;
            Ok(s)
        }
        _ => {
            let mut w = buffered;
            let s = rampart_table::process(source, o, visitor, Some(&mut w))?;
            w.flush()?;
            Ok(s)
        }
    })?;
    require_columns(&source.path, &summary.columns, must_have.iter().copied())?;
    rampart_core::persist(tmp, output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(summary)
}

fn mask(a: &MaskArgs, unmask: bool) -> Result<ExitCode> {
    let (policy, policy_digest) = load_policy(&a.masking, &a.common)?;
    crate::output::check(&a.output, std::slice::from_ref(&a.input))?;
    let keys = match &a.key {
        Some(k) => Some(
            Keys::parse(
                &std::fs::read_to_string(k)
                    .with_context(|| format!("cannot read the key {}", k.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", k.display()))?,
        ),
        None if unmask => bail!("unmask needs the key the data was masked with (--key)"),
        None if policy.needs_key() => {
            bail!("the policy uses hmac, siv or ff1, which need a key: --key FILE (make one with `rampart data pii keygen FILE`)")
        }
        None => None,
    };
    let source = detect(&a.input)?;
    let mut v = MaskVisitor {
        policy: &policy,
        keys: keys.as_ref(),
        unmask,
        tally: Tally::new(),
        failed: Vec::new(),
        failed_count: 0,
        refused: Vec::new(),
        refused_count: 0,
    };
    let verb = if unmask { "unmasking" } else { "masking" };
    let named: Vec<(&str, &str)> = policy
        .columns
        .keys()
        .map(|c| ("[columns] of the masking policy names", c.as_str()))
        .collect();
    let summary = rewrite(&source, &policy, &mut v, &a.output, verb, &named)?;
    let dropped: Vec<&String> = policy
        .columns
        .iter()
        .filter(|(_, a)| **a == Action::Drop)
        .map(|(c, _)| c)
        .collect();
    let transformed: Vec<serde_json::Value> = v
        .tally
        .iter()
        .map(|((target, action), n)| json!({"target": target, "action": action, "values": n}))
        .collect();
    for ((target, action), n) in &v.tally {
        println!("{target:<32} {action:<20} {n} values");
    }
    if !unmask {
        for c in &dropped {
            println!("column:{c:<25} drop");
        }
    }
    for f in &v.failed {
        eprintln!("warning: {f}");
    }
    warn_skipped(&a.input, &summary);
    if source.compression == rampart_table::Compression::Zstd {
        eprintln!("note: the input was zstd-compressed; the output is written uncompressed");
    }
    println!(
        "{} records written to {} ({}{} skipped)",
        summary.records,
        a.output.display(),
        source.format.name(),
        format_args!(", {}", summary.skipped)
    );
    let predicate = json!({
        "passed": v.failed_count == 0,
        "direction": if unmask { "unmask" } else { "mask" },
        "transformed": transformed,
        "dropped_columns": if unmask { Vec::new() } else { dropped },
        "records": summary.records,
        "skipped": summary.skipped,
        "failed_values": v.failed_count,
        "threshold": policy.threshold,
        "policy_sha256": policy_digest,
    });
    record_attestation(
        &a.common,
        if unmask { "pii-unmask" } else { "pii-mask" },
        &[a.input.clone(), a.output.clone()],
        predicate,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn keygen(path: &Path) -> Result<ExitCode> {
    use rand_core::RngCore;
    let mut key = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut key);
    crate::signing::write_new(path, format!("{}\n", hex::encode(key)).as_bytes(), 0o600)?;
    println!(
        "wrote a new masking key to {} (keep it secret: it links pseudonyms and opens tokens)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One equivalence class: rows sharing the quasi-identifier values.
#[derive(Default)]
struct Class {
    rows: u64,
    first_rows: Vec<u64>,
    sensitive: HashSet<String>,
}

/// Distinct sensitive values remembered per class (l is reported as at
/// least this many beyond it).
const MAX_DIVERSITY: usize = 64;

struct RiskVisitor<'a> {
    quasi: &'a [String],
    sensitive: Option<&'a str>,
    record: u64,
    line: u64,
    current: Vec<Option<String>>,
    current_sensitive: Option<String>,
    classes: HashMap<Vec<String>, Class>,
    seen: HashSet<String>,
    keep_rows: usize,
}

impl RiskVisitor<'_> {
    fn finish_record(&mut self) {
        if self.record == 0 {
            return;
        }
        let key: Vec<String> = self
            .current
            .iter_mut()
            .map(|v| v.take().unwrap_or_default())
            .collect();
        let class = self.classes.entry(key).or_default();
        class.rows += 1;
        if class.first_rows.len() < self.keep_rows {
            class.first_rows.push(self.line);
        }
        if let Some(s) = self.current_sensitive.take() {
            if class.sensitive.len() < MAX_DIVERSITY {
                class.sensitive.insert(s);
            }
        }
    }
}

impl Visitor for RiskVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if cell.record != self.record {
            self.finish_record();
            self.record = cell.record;
            self.line = cell.line;
        }
        if self.seen.len() < 10_000 {
            self.seen.insert(cell.column.to_string());
        }
        if let Some(i) = self.quasi.iter().position(|q| q == cell.column) {
            if let Some(slot) = self.current.get_mut(i) {
                *slot = Some(cell.value.to_string());
            }
        }
        if self.sensitive == Some(cell.column) {
            self.current_sensitive = Some(cell.value.to_string());
        }
        None
    }
}

/// What `data risk` measures; the report's `passed` says whether k and
/// l meet their minimums.
pub struct RiskQuery<'a> {
    pub path: &'a Path,
    pub quasi: &'a [String],
    pub sensitive: Option<&'a str>,
    pub min_k: u64,
    pub min_l: u64,
    pub max_rows: usize,
}

/// The k-anonymity and l-diversity report of a dataset, as JSON.
pub fn measure_risk(q: &RiskQuery, policy: &Policy) -> Result<serde_json::Value> {
    let source = detect(q.path)?;
    let mut v = RiskVisitor {
        quasi: q.quasi,
        sensitive: q.sensitive,
        record: 0,
        line: 0,
        current: vec![None; q.quasi.len()],
        current_sensitive: None,
        classes: HashMap::new(),
        seen: HashSet::new(),
        // A class of k rows or more is not at risk: it never needs more
        // than k - 1 row numbers.
        keep_rows: q
            .max_rows
            .min(usize::try_from(q.min_k.saturating_sub(1)).unwrap_or(usize::MAX)),
    };
    let summary = with_bar(policy, &format!("reading {}", q.path.display()), |o| {
        Ok(rampart_table::process(&source, o, &mut v, None)?)
    })?;
    v.finish_record();
    let mut have = summary.columns.clone();
    for c in &v.seen {
        if !have.iter().any(|h| h == c) {
            have.push(c.to_string());
        }
    }
    require_columns(
        q.path,
        &have,
        q.quasi
            .iter()
            .map(|c| ("--quasi", c.as_str()))
            .chain(q.sensitive.map(|c| ("--sensitive", c))),
    )?;
    let rows: u64 = v.classes.values().map(|c| c.rows).sum();
    let k_min = v.classes.values().map(|c| c.rows).min().unwrap_or(0);
    let below: Vec<&Class> = v.classes.values().filter(|c| c.rows < q.min_k).collect();
    let rows_below: u64 = below.iter().map(|c| c.rows).sum();
    let mut at_risk: Vec<u64> = below
        .iter()
        .flat_map(|c| c.first_rows.iter().copied())
        .collect();
    at_risk.sort_unstable();
    at_risk.truncate(q.max_rows);
    let diversity = |c: &Class| c.sensitive.len() as u64;
    let l_min = q
        .sensitive
        .map(|_| v.classes.values().map(diversity).min().unwrap_or(0));
    let classes_below_l = q.sensitive.map(|_| {
        v.classes
            .values()
            .filter(|c| diversity(c) < q.min_l)
            .count()
    });
    let passed = k_min >= q.min_k && l_min.is_none_or(|l| l >= q.min_l);
    let share = if rows == 0 {
        0.0
    } else {
        rows_below as f64 / rows as f64
    };
    Ok(json!({
        "file": q.path.display().to_string(),
        "rows": rows,
        "quasi_identifiers": q.quasi,
        "classes": v.classes.len(),
        "k": k_min,
        "min_k": q.min_k,
        "classes_below_k": below.len(),
        "rows_below_k": rows_below,
        "share_below_k": share,
        "rows_at_risk": at_risk,
        "sensitive": q.sensitive,
        "l": l_min,
        "min_l": q.sensitive.map(|_| q.min_l),
        "classes_below_l": classes_below_l,
        "passed": passed,
        "skipped": summary.skipped,
    }))
}

fn risk(a: &RiskArgs) -> Result<ExitCode> {
    let (policy, _) = load_policy(&Masking::default(), &a.common)?;
    let q = RiskQuery {
        path: &a.path,
        quasi: &a.quasi,
        sensitive: a.sensitive.as_deref(),
        min_k: a.k,
        min_l: a.l,
        max_rows: a.max_rows,
    };
    let report = measure_risk(&q, &policy)?;
    let passed = report["passed"].as_bool().unwrap_or(false);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_risk(&report);
    }
    record_attestation(
        &a.common,
        "reid-risk",
        std::slice::from_ref(&a.path),
        report,
    )?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_risk(r: &serde_json::Value) {
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    let quasi: Vec<&str> = r["quasi_identifiers"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    println!(
        "{}: {} rows in {} classes over {}{}",
        r["file"].as_str().unwrap_or(""),
        n("rows"),
        n("classes"),
        quasi.join(", "),
        skipped_note(n("skipped"))
    );
    println!(
        "k-anonymity: k = {} (minimum {}); {} classes and {} rows ({:.1}%) below it",
        n("k"),
        n("min_k"),
        n("classes_below_k"),
        n("rows_below_k"),
        r["share_below_k"].as_f64().unwrap_or(0.0) * 100.0
    );
    if let Some(s) = r["sensitive"].as_str() {
        println!(
            "l-diversity of {s}: l = {} (minimum {}); {} classes below it",
            n("l"),
            n("min_l"),
            n("classes_below_l")
        );
    }
    if let Some(rows) = r["rows_at_risk"].as_array().filter(|a| !a.is_empty()) {
        let list: Vec<String> = rows.iter().map(|v| v.to_string()).collect();
        println!(
            "rows at risk (line numbers, first {}): {}",
            list.len(),
            list.join(", ")
        );
    }
    let verdict = if r["passed"].as_bool().unwrap_or(false) {
        "PASS"
    } else {
        "FAIL"
    };
    println!("{verdict}");
}

/// Hands every value to a [`Spread`] of column accumulators: the file is
/// read on this thread, its columns are summarised on all cores.
///
/// [`Spread`]: rampart_profile::spread::Spread
struct SpreadVisitor<S: rampart_profile::spread::ColumnSink>(
    pub rampart_profile::spread::Spread<S>,
);

impl<S: rampart_profile::spread::ColumnSink> Visitor for SpreadVisitor<S> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let column = if cell.column.is_empty() {
            "text"
        } else {
            cell.column
        };
        self.0.observe(column, cell.value);
        None
    }

    fn takes_batches(&self) -> bool {
        true
    }

    fn numbers(&mut self, column: &str, batch: &rampart_table::Numbers) {
        let kind = number_kind(batch);
        self.0
            .observe_numbers(column, kind, batch.values, batch.nulls);
    }

    fn texts(&mut self, column: &str, batch: &rampart_table::Texts) {
        for &(value, count) in batch.values {
            self.0.observe_counted(column, value, count);
        }
        self.nulls(column, batch.nulls);
    }

    fn nulls(&mut self, column: &str, count: u64) {
        let kind = rampart_profile::Kind::String;
        self.0.observe_numbers(column, kind, &[], count);
    }
}

/// Summarises the columns of one part of a Parquet file (the columns
/// a [`rampart_table::Options::columns`] projection reads) on the
/// caller's thread.
struct ColumnsVisitor<S> {
    sinks: Vec<(String, S)>,
    make: std::sync::Arc<dyn Fn() -> S + Send + Sync>,
}

impl<S: rampart_profile::spread::ColumnSink> ColumnsVisitor<S> {
    fn sink(&mut self, column: &str) -> Option<&mut S> {
        // A batch shows one column after another, many values each: the
        // last column is almost always the one.
        let i = match self.sinks.iter().rposition(|(n, _)| n == column) {
            Some(i) => i,
            None => {
                self.sinks.push((column.to_string(), (self.make)()));
                self.sinks.len() - 1
            }
        };
        self.sinks.get_mut(i).map(|(_, s)| s)
    }
}

impl<S: rampart_profile::spread::ColumnSink> Visitor for ColumnsVisitor<S> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if let Some(s) = self.sink(cell.column) {
            s.observe(cell.value);
        }
        None
    }

    fn takes_batches(&self) -> bool {
        true
    }

    fn numbers(&mut self, column: &str, batch: &rampart_table::Numbers) {
        let kind = number_kind(batch);
        if let Some(s) = self.sink(column) {
            s.observe_numbers(kind, batch.values, batch.nulls);
        }
    }

    fn texts(&mut self, column: &str, batch: &rampart_table::Texts) {
        if let Some(s) = self.sink(column) {
            for &(value, count) in batch.values {
                s.observe_counted(value, count);
            }
            s.observe_numbers(rampart_profile::Kind::String, &[], batch.nulls);
        }
    }

    fn nulls(&mut self, column: &str, count: u64) {
        if let Some(s) = self.sink(column) {
            s.observe_numbers(rampart_profile::Kind::String, &[], count);
        }
    }
}

fn number_kind(batch: &rampart_table::Numbers) -> rampart_profile::Kind {
    if batch.integer {
        rampart_profile::Kind::Integer
    } else {
        rampart_profile::Kind::Float
    }
}

/// A dataset's columns, each summarised by one accumulator.
pub(crate) struct Summarised<S> {
    /// In file order.
    pub columns: Vec<(String, S)>,
    /// Values of columns past [`rampart_profile::MAX_COLUMNS`], dropped.
    pub dropped: u64,
    pub summary: rampart_table::Summary,
}

/// One thread's columns of a Parquet file.
type Part<S> = Result<(Vec<(String, S)>, rampart_table::Summary)>;

/// Every column of a dataset summarised by one accumulator each (made by
/// `make`), on `workers` threads.
///
/// A Parquet file is read column by column: each thread reads the next
/// column not yet taken itself, so nothing is handed between threads. Other
/// formats are read row by row on this thread and their cells spread
/// over the workers by column.
pub(crate) fn summarise<S: rampart_profile::spread::ColumnSink>(
    path: &Path,
    policy: &Policy,
    workers: usize,
    make: impl Fn() -> S + Send + Sync + 'static,
) -> Result<Summarised<S>> {
    let source = detect(path)?;
    let columns = rampart_table::parquet_columns(&source)?;
    let Some(names) = columns.filter(|c| workers > 1 && c.len() > 1) else {
        let mut v = SpreadVisitor(rampart_profile::spread::Spread::new(
            workers,
            rampart_profile::MAX_COLUMNS,
            make,
        ));
        let summary = rampart_table::process(&source, &options(policy), &mut v, None)?;
        let (columns, dropped) =
            v.0.finish()
                .ok_or_else(|| anyhow::anyhow!("{}: a reading thread failed", path.display()))?;
        return Ok(Summarised {
            columns,
            dropped,
            summary,
        });
    };
    let kept = names.len().min(rampart_profile::MAX_COLUMNS);
    // The costliest columns first, each to the next thread free: the
    // last to finish is then a small one, and no thread waits long.
    let mut queue: Vec<usize> = (0..kept).collect();
    queue.sort_by_key(|&c| std::cmp::Reverse(names.get(c).map_or(0, |n| n.bytes)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let make: std::sync::Arc<dyn Fn() -> S + Send + Sync> = std::sync::Arc::new(make);
    let parts: Vec<Part<S>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(kept))
            .map(|_| {
                let (source, make, queue, next) = (&source, make.clone(), &queue, &next);
                scope.spawn(move || -> Result<_> {
                    let mut v = ColumnsVisitor {
                        sinks: Vec::new(),
                        make,
                    };
                    let mut summary = rampart_table::Summary::default();
                    let order = std::sync::atomic::Ordering::Relaxed;
                    while let Some(&c) = queue.get(next.fetch_add(1, order)) {
                        let options = rampart_table::Options {
                            columns: Some(vec![c]),
                            ..options(policy)
                        };
                        summary = rampart_table::process(source, &options, &mut v, None)?;
                    }
                    let mut sinks = v.sinks;
                    sinks.iter_mut().for_each(|(_, s)| s.finish());
                    Ok((sinks, summary))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(anyhow::anyhow!(
                        "{}: a reading thread failed",
                        path.display()
                    ))
                })
            })
            .collect()
    });
    let names: Vec<String> = names.into_iter().map(|c| c.name).collect();
    let mut all: Vec<(String, S)> = Vec::new();
    let mut summary = rampart_table::Summary::default();
    for part in parts {
        let (sinks, s) = part?;
        all.extend(sinks);
        summary.records = summary.records.max(s.records);
    }
    let order = |n: &str| names.iter().position(|x| x == n);
    all.sort_by_key(|(n, _)| order(n));
    let dropped = summary.records.saturating_mul((names.len() - kept) as u64);
    // Each read's summary names its own column; the file has them all.
    summary.columns = names;
    Ok(Summarised {
        columns: all,
        dropped,
        summary,
    })
}

/// Threads that summarise columns: one per core.
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The profile of one dataset file.
///
/// The file is hashed on a thread of its own beside the profiling: the
/// workers wait on the file's reading and decompression now and then, and
/// the hash fills those gaps.
fn profile_dataset(path: &Path, policy: &Policy) -> Result<rampart_profile::Profile> {
    let (columns, sha256) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| crate::attest::artifact_digest(path));
        let columns = profile_columns(path, policy);
        let sha256 = hash
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("{}: hashing failed", path.display())));
        (columns, sha256)
    });
    let (mut shard, format) = columns?;
    shard.sources.push(rampart_profile::Source {
        file: path.display().to_string(),
        format: format.name().into(),
        sha256: sha256?,
        rows: shard.rows,
    });
    Ok(shard)
}

/// The columns of a dataset profiled, and its format, without the
/// digest of the whole file that a profile's source carries: for
/// callers that only need the columns' types and counts.
fn profile_columns(
    path: &Path,
    policy: &Policy,
) -> Result<(rampart_profile::Profile, rampart_table::Format)> {
    let format = detect(path)?.format;
    let progress = crate::progress::spinner(&format!("profiling {}", path.display()));
    let Summarised {
        columns,
        dropped,
        summary,
    } = summarise(path, policy, workers(), || rampart_profile::Column::new(""))?;
    let shard = rampart_profile::Profile::from_columns(summary.records, columns, dropped);
    progress.finish_and_clear();
    warn_skipped(path, &summary);
    Ok((shard, format))
}

/// Largest profile file read (a profile is about 40 KiB per column).
const MAX_PROFILE_BYTES: u64 = 256 << 20;

/// A profile file, or the profile of a dataset.
fn profile_of(path: &Path, policy: &Policy) -> Result<rampart_profile::Profile> {
    match read_profile(path)? {
        Some(p) => Ok(p),
        None => profile_dataset(path, policy),
    }
}

/// `value` with the personal data the recognisers find in it masked, or
/// None when they find none. Profiles and suggestions are shared and
/// committed, so they hold masks, never the values: of each match at most
/// a third of its characters, and never more than four, stay
/// ([`rampart_pii::columns::mask_example`]).
pub(super) fn mask_personal(column: &str, value: &str, threshold: f32) -> Option<String> {
    let found = rampart_pii::disjoint(scan_cell(value, column, threshold));
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for m in &found {
        let span = value.get(m.start..m.end)?;
        out.push_str(value.get(at..m.start)?);
        out.push_str(&rampart_pii::columns::mask_example(span));
        at = m.end;
    }
    out.push_str(value.get(at..)?);
    Some(out)
}

/// Masks the personal data among a profile's top values
/// ([`mask_personal`]), unless `keep` (`--keep-personal-data`).
fn mask_profile(profile: &mut rampart_profile::Profile, threshold: f32, keep: bool) {
    if keep {
        return;
    }
    for c in &mut profile.columns {
        let name = c.name.clone();
        c.mask_top(&|v| mask_personal(&name, v, threshold));
    }
}

/// The profile in `path`, or None when it is not a profile (a dataset).
fn read_profile(path: &Path) -> Result<Option<rampart_profile::Profile>> {
    // Only a JSON object of bounded size can be a profile: anything else
    // is a dataset, and is not read whole here.
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() < MAX_PROFILE_BYTES);
    let object = small
        && rampart_table::detect(path).is_ok_and(|s| {
            s.format == rampart_table::Format::Json
                && s.compression == rampart_table::Compression::None
        });
    let bytes = object.then(|| std::fs::read(path).ok()).flatten();
    if let Some(p) = bytes
        .as_deref()
        .and_then(|b| rampart_profile::Profile::from_slice(b).ok())
    {
        return Ok(Some(p));
    }
    // Not a well-formed profile: a JSON dataset, or a profile whose error
    // the JSON tree names.
    let profile = bytes
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|v| v.get("sketches").is_some());
    profile
        .map(|v| {
            rampart_profile::Profile::from_json(&v)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        })
        .transpose()
}

fn suggest(a: &SuggestArgs) -> Result<ExitCode> {
    crate::output::check_new(&a.output, std::slice::from_ref(&a.path))?;
    let (policy, _) = load_policy(&a.masking, &a.common)?;
    let mut profile = profile_of(&a.path, &policy)?;
    mask_profile(&mut profile, policy.threshold, a.keep_personal_data);
    let e = rampart_profile::expect::suggest(&mut profile);
    let text = format!(
        "# Expectations suggested by `rampart data suggest` from {} ({} rows).\n\
         # Edit them, then check data with `rampart data validate PATH --expect FILE`.\n{}",
        a.path.display(),
        profile.rows,
        toml::to_string(&e)?
    );
    crate::signing::write_new(&a.output, text.as_bytes(), 0o644)?;
    println!(
        "{} expectations on {} columns -> {}",
        e.expect.len(),
        e.columns.len(),
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

struct ValidateVisitor<'a> {
    validator: &'a mut rampart_profile::expect::Validator,
}

impl Visitor for ValidateVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let column = if cell.column.is_empty() {
            "text"
        } else {
            cell.column
        };
        self.validator
            .observe(cell.record, cell.line, column, cell.value);
        None
    }
}

fn validate(a: &ValidateArgs) -> Result<ExitCode> {
    let (policy, _) = load_policy(&Masking::default(), &a.common)?;
    let text = std::fs::read_to_string(&a.expect)
        .with_context(|| format!("cannot read {}", a.expect.display()))?;
    let expectations = rampart_profile::expect::Expectations::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.expect.display()))?;
    let count = expectations.expect.len()
        + usize::from(expectations.rows.is_some())
        + usize::from(!expectations.columns.is_empty())
        + expectations.unique_together.len();
    // Values of columns named like personal data, or holding it, are shown masked.
    let threshold = policy.threshold;
    let mask = Box::new(move |column: &str, value: &str| {
        if rampart_pii::columns::name_hint(column).is_some()
            || !scan_cell(value, column, threshold).is_empty()
        {
            rampart_pii::columns::mask_example(value)
        } else {
            // Control characters (a stray \r) shown escaped, so that
            // they cannot garble the terminal.
            value
                .chars()
                .take(80)
                .flat_map(|c| {
                    let escaped = c.is_control().then(|| c.escape_debug());
                    escaped
                        .into_iter()
                        .flatten()
                        .chain((!c.is_control()).then_some(c))
                })
                .collect()
        }
    });
    let mut validator = rampart_profile::expect::Validator::new(expectations, mask);
    let source = detect(&a.path)?;
    let summary = with_bar(&policy, &format!("validating {}", a.path.display()), |o| {
        let mut v = ValidateVisitor {
            validator: &mut validator,
        };
        Ok(rampart_table::process(&source, o, &mut v, None)?)
    })?;
    let mut have = summary.columns.clone();
    if have == [""] {
        have = vec!["text".into()];
    }
    let e = validator.expectations();
    require_columns(
        &a.path,
        &have,
        // `columns = [...]` is itself an expectation (a missing column
        // fails validation); the others name columns to check.
        e.unique_together
            .iter()
            .flatten()
            .map(|c| ("unique_together names", c.as_str()))
            .chain(
                e.expect
                    .iter()
                    .map(|x| ("an [[expect]] names", x.column.as_str())),
            ),
    )
    .with_context(|| format!("in {}", a.expect.display()))?;
    let failures = validator.finish(summary.records);
    if a.json {
        let v = json!({"file": a.path.display().to_string(), "rows": summary.records, "skipped": summary.skipped, "failures": failures});
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for f in &failures {
            let rows: Vec<String> = f
                .rows
                .iter()
                .map(|(l, v)| format!("line {l}: {v}"))
                .collect();
            println!(
                "FAIL {}{}: {}{}",
                f.column
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                f.expectation,
                f.observed,
                if rows.is_empty() {
                    String::new()
                } else {
                    format!(" (e.g. {})", rows.join("; "))
                }
            );
        }
        println!(
            "{}: {} rows, {} expectations, {} failed{}",
            a.path.display(),
            summary.records,
            count,
            failures.len(),
            skipped_note(summary.skipped)
        );
    }
    let predicate = json!({
        "passed": failures.is_empty(),
        "rows": summary.records,
        "skipped": summary.skipped,
        "expectations_sha256": crate::attest::sha256_hex(text.as_bytes()),
        "failed": failures.iter().map(|f| json!({"column": f.column, "expectation": f.expectation, "failing_rows": f.failing_rows})).collect::<Vec<_>>(),
    });
    record_attestation(
        &a.common,
        "data-validate",
        std::slice::from_ref(&a.path),
        predicate,
    )?;
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn profile(a: &ProfileArgs) -> Result<ExitCode> {
    crate::output::check(&a.output, &a.paths)?;
    let (policy, _) = load_policy(&a.masking, &a.common)?;
    let mut profile = rampart_profile::Profile::default();
    for path in &a.paths {
        if a.merge {
            let text =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let other = match rampart_profile::Profile::from_slice(&text) {
                Ok(p) => p,
                // The JSON tree's reading names what is wrong.
                Err(_) => {
                    let v: serde_json::Value = serde_json::from_slice(&text)
                        .with_context(|| format!("{}: not JSON", path.display()))?;
                    rampart_profile::Profile::from_json(&v)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
            };
            profile
                .merge(&other)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            continue;
        }
        let shard = profile_dataset(path, &policy)?;
        profile.merge(&shard).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    mask_profile(&mut profile, policy.threshold, a.keep_personal_data);
    let (mut text, summary) = profile.to_json_text()?;
    text.push('\n');
    rampart_core::write_atomic(&a.output, text.as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "{} rows, {} columns -> {}",
        profile.rows,
        profile.columns.len(),
        a.output.display()
    );
    println!(
        "{:<24} {:<8} {:>7} {:>10} {:>12} {:>12} {:>12}",
        "column", "type", "null%", "distinct", "min", "max", "mean"
    );
    for c in &summary {
        let num = |k: &str| c[k].as_f64().map_or("-".to_string(), |x| format!("{x:.4}"));
        println!(
            "{:<24} {:<8} {:>6.1}% {:>10} {:>12} {:>12} {:>12}",
            c["name"].as_str().unwrap_or(""),
            c["type"].as_str().unwrap_or(""),
            c["null_share"].as_f64().unwrap_or(0.0) * 100.0,
            c["distinct"],
            num("min"),
            num("max"),
            num("mean")
        );
    }
    let predicate = json!({
        "passed": true,
        "rows": profile.rows,
        "columns": profile.columns.len(),
        "merged": a.merge,
        "profile_sha256": crate::attest::sha256_hex(text.as_bytes()),
    });
    let mut inputs = a.paths.clone();
    inputs.push(a.output.clone());
    record_attestation(&a.common, "data-profile", &inputs, predicate)?;
    Ok(ExitCode::SUCCESS)
}

/// Assembles rows from values and hands each complete row on.
struct RowVisitor<F: FnMut(&rampart_profile::duplicates::Row)> {
    row: rampart_profile::duplicates::Row,
    done: F,
}

impl<F: FnMut(&rampart_profile::duplicates::Row)> RowVisitor<F> {
    fn flush(&mut self) {
        if self.row.record > 0 {
            (self.done)(&self.row);
        }
    }
}

impl<F: FnMut(&rampart_profile::duplicates::Row)> Visitor for RowVisitor<F> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if cell.record != self.row.record {
            self.flush();
            self.row = rampart_profile::duplicates::Row::new(cell.record, cell.line);
        }
        self.row.set(cell.column, cell.value);
        None
    }
}

/// Shows every row of `path` to `done`; returns the rows and the file's
/// columns.
fn each_row(
    path: &Path,
    policy: &Policy,
    done: impl FnMut(&rampart_profile::duplicates::Row),
) -> Result<rampart_table::Summary> {
    let source = detect(path)?;
    let mut v = RowVisitor {
        row: Default::default(),
        done,
    };
    let message = format!("reading {}", source.path.display());
    let summary = with_bar(policy, &message, |o| {
        Ok(rampart_table::process(&source, o, &mut v, None)?)
    })?;
    v.flush();
    Ok(summary)
}

/// "; N records skipped" when `--bad-input skip` left records out: every
/// report says how much of its input it did not read.
fn skipped_note(skipped: u64) -> String {
    match skipped {
        0 => String::new(),
        1 => "; 1 record skipped (--bad-input skip)".into(),
        n => format!("; {n} records skipped (--bad-input skip)"),
    }
}

/// One finding, for people; `place` names what its numbers count
/// ("lines" of a text file, "rows" of a Parquet file).
fn finding_line(
    f: &rampart_profile::duplicates::Finding,
    rows: u64,
    min_share: f64,
    place: &str,
) -> String {
    let lines = || {
        f.rows
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&f.column, &f.value) {
        // A trigger: a column's word and its label.
        (Some(column), Some(value)) => {
            let labelled = f
                .labels
                .first()
                .and_then(|l| f.counts.get(l))
                .copied()
                .unwrap_or(0);
            format!(
                "{:<20} {column} holds {value:?} in {} rows, {labelled} of them labelled {}: {place} {}",
                f.kind,
                f.count,
                f.labels.join(", "),
                lines()
            )
        }
        (Some(column), None) if f.kind == "label-shift" => {
            format!("{:<20} {column}: {}", f.kind, f.labels.join(", "))
        }
        // Imbalance: the rare values of a column and their counts.
        (Some(column), None) => {
            let few: Vec<String> = f
                .labels
                .iter()
                .map(|v| format!("{v:?} {}", f.counts.get(v).copied().unwrap_or(0)))
                .collect();
            format!(
                "{:<20} {column}: {} of {rows} rows (under {}%)",
                f.kind,
                few.join(", "),
                min_share * 100.0
            )
        }
        _ => {
            let labels = if f.labels.is_empty() {
                String::new()
            } else {
                format!(" (labels {})", f.labels.join(", "))
            };
            let noun = if f.count == 1 { "row" } else { "rows" };
            format!(
                "{:<20} {} {noun}{labels}: {place} {}",
                f.kind,
                f.count,
                lines()
            )
        }
    }
}

/// What `poison` found: the rows read, the findings, whether some lists
/// were cut short, and what the outlier forest was built from.
struct PoisonReport {
    rows: u64,
    /// Records left out under `--bad-input skip`.
    skipped: u64,
    findings: Vec<rampart_profile::duplicates::Finding>,
    truncated: bool,
    forest: Option<serde_json::Value>,
    label_model: Option<serde_json::Value>,
}

/// Runs every check `a` asks for: one pass over the data (and the
/// training set and reference when given), a second for trigger rows,
/// and the outlier passes.
fn poison_checks(a: &PoisonArgs, policy: &Policy) -> Result<PoisonReport> {
    let mut d = rampart_profile::duplicates::Duplicates::new(a.label.clone());
    if let Some(t) = a.near.filter(|t| !(0.0..=1.0).contains(t)) {
        bail!("--near {t}: a similarity is between 0 and 1 (0.8 finds rows sharing about four fifths of their values and words)");
    }
    let mut near = a
        .near
        .map(|t| rampart_profile::near::NearDuplicates::new(a.label.clone(), t));
    let mut train_columns = None;
    if let Some(train) = &a.leak_from {
        train_columns = Some(
            each_row(train, policy, |r| {
                d.add_reference(r);
                if let Some(n) = near.as_mut() {
                    n.add_reference(r);
                }
            })?
            .columns,
        );
    }
    let mut balance = rampart_profile::balance::Balance::new(a.label.clone(), a.groups.clone());
    let mut triggers = a
        .label
        .clone()
        .map(rampart_profile::triggers::Triggers::new);
    let read = each_row(&a.path, policy, |r| {
        let seen = d.add(r);
        if let Some(n) = near.as_mut() {
            n.add(r, seen);
        }
        balance.add(r);
        if let Some(t) = triggers.as_mut() {
            t.add(r);
        }
    })?;
    let (rows, skipped) = (read.records, read.skipped);
    if let (Some(train), Some(columns)) = (&a.leak_from, &train_columns) {
        if !columns.iter().any(|c| read.columns.contains(c)) {
            bail!(
                "--leak-from {}: it shares no column with {}, so no row of one can be found in the other; give the training set of this data",
                train.display(),
                a.path.display()
            );
        }
    }
    require_columns(
        &a.path,
        &read.columns,
        a.label
            .iter()
            .map(|l| ("--label", l.as_str()))
            .chain(a.groups.iter().map(|g| ("--groups", g.as_str()))),
    )?;
    let mut findings = d.findings();
    if let Some(n) = near.as_mut() {
        findings.extend(n.findings());
    }
    findings.extend(balance.findings(a.min_share));
    if let Some(t) = &triggers {
        let mut found = t.findings(rampart_profile::triggers::Thresholds::default());
        if !found.is_empty() {
            // A second pass names the trigger's rows.
            let mut rows = rampart_profile::triggers::TriggerRows::new(&mut found);
            each_row(&a.path, policy, |r| rows.add(r))?;
            findings.extend(found);
        }
    }
    if let Some(reference) = &a.reference {
        let mut before = rampart_profile::balance::Balance::new(a.label.clone(), Vec::new());
        let columns = each_row(reference, policy, |r| before.add(r))?.columns;
        require_columns(
            reference,
            &columns,
            a.label.iter().map(|l| ("--label", l.as_str())),
        )?;
        findings.extend(balance.label_shift(&before, a.max_label_shift));
    }
    let (mut forest, mut label_model) = (None, None);
    if a.outliers || a.label_issues || a.pred_probs.is_some() {
        let features = read_features(a, policy)?;
        // Label issues borrow the features; the forest then takes them.
        let labelled = (a.label_issues || a.pred_probs.is_some())
            .then(|| labels::label_issues(a, policy, &features))
            .transpose()?;
        if a.outliers {
            let (finding, info) = outliers(a, features)?;
            findings.extend(finding);
            forest = Some(info);
        }
        if let Some((finding, info)) = labelled {
            findings.extend(finding);
            label_model = Some(info);
        }
    }
    let truncated = d.truncated || near.as_ref().is_some_and(|n| n.truncated);
    Ok(PoisonReport {
        rows,
        skipped,
        findings,
        truncated,
        forest,
        label_model,
    })
}

fn poison(a: &PoisonArgs) -> Result<ExitCode> {
    let (policy, _) = load_policy(&Masking::default(), &a.common)?;
    let PoisonReport {
        rows,
        skipped,
        findings,
        truncated,
        forest,
        label_model,
    } = poison_checks(a, &policy)?;
    if a.json {
        let v = json!({
            "file": a.path.display().to_string(),
            "sha256": crate::attest::artifact_digest(&a.path)?,
            "rows": rows,
            "skipped": skipped,
            "truncated": truncated,
            "findings": findings,
            "outliers": forest,
            "label_issues": label_model,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let parquet = rampart_table::detect(&a.path)
            .is_ok_and(|s| matches!(s.format, rampart_table::Format::Parquet));
        let place = if parquet { "rows" } else { "lines" };
        for f in &findings {
            println!("{}", finding_line(f, rows, a.min_share, place));
        }
        if let Some(info) = &label_model {
            println!("label issues: {}", info["model"].as_str().unwrap_or(""));
        }
        if let Some(info) = &forest {
            let features = info["features"].as_array().map_or(0, Vec::len);
            let left: Vec<&str> = info["left_out"]
                .as_array()
                .map(|l| l.iter().filter_map(|c| c.as_str()).collect())
                .unwrap_or_default();
            println!(
                "outliers: isolation forest over {features} columns{}, threshold {}",
                if left.is_empty() {
                    String::new()
                } else {
                    format!(" (left out: {})", left.join(", "))
                },
                a.outlier_threshold
            );
        }
        println!(
            "{}: {rows} rows, {} finding{}{}",
            a.path.display(),
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            skipped_note(skipped)
        );
    }
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &findings {
        *counts.entry(f.kind).or_default() += f.count;
    }
    let predicate = json!({"passed": findings.is_empty(), "rows": rows, "skipped": skipped, "rows_by_kind": counts, "label": a.label});
    let mut inputs = vec![a.path.clone()];
    inputs.extend(a.leak_from.iter().cloned());
    inputs.extend(a.reference.iter().cloned());
    record_attestation(&a.common, "data-poison", &inputs, predicate)?;
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Columns as features: numbers, or categories of at most this many
/// values (and repeating: at most one distinct value per two rows);
/// other columns (ids, free text) isolate every row and are left out.
const MAX_CATEGORY_VALUES: u64 = 1_000;

/// A dataset's rows as features, and their labels when label errors are
/// looked for: what the outlier and label checks share, read once.
struct Features {
    plan: Vec<(String, rampart_profile::outliers::Encoding)>,
    left_out: Vec<String>,
    builder: rampart_profile::outliers::FeatureBuilder,
    /// Each row's label (None where null); empty unless asked for.
    labels: Vec<Option<String>>,
}

/// Feeds a dataset's values to a feature builder, row by row, keeping
/// each row's `label` value when one is named.
struct FeatureVisitor<'a> {
    features: &'a mut Features,
    label: Option<&'a str>,
    record: u64,
}

impl Visitor for FeatureVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let f = &mut *self.features;
        if cell.record != self.record {
            self.record = cell.record;
            f.builder.start_row(cell.record, cell.line);
            if self.label.is_some() {
                f.labels.push(None);
            }
        }
        if Some(cell.column) == self.label {
            let (kind, _) = rampart_profile::classify(cell.value);
            if let (Some(l), false) = (f.labels.last_mut(), kind == rampart_profile::Kind::Null) {
                *l = Some(cell.value.trim().to_string());
            }
        } else {
            f.builder.set(cell.column, cell.value);
        }
        None
    }
}

/// Reads the features the checks `a` asks for need, in one pass: columns
/// typed and planned for `--outliers` and the built-in label model, and
/// the labels for `--label-issues` and `--pred-probs`.
fn read_features(a: &PoisonArgs, policy: &Policy) -> Result<Features> {
    let model = a.label_issues && a.pred_probs.is_none();
    let labels = a.label_issues || a.pred_probs.is_some();
    let (plan, left_out) = if a.outliers || model {
        let purpose = match (a.outliers, model) {
            (true, true) => "outliers and label issues",
            (true, false) => "outliers",
            _ => "label issues",
        };
        feature_plan(&a.path, a.label.as_ref(), policy, purpose)?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut features = Features {
        builder: rampart_profile::outliers::FeatureBuilder::new(&plan),
        plan,
        left_out,
        labels: Vec::new(),
    };
    let mut v = FeatureVisitor {
        features: &mut features,
        label: a.label.as_deref().filter(|_| labels),
        record: 0,
    };
    rampart_table::process(&detect(&a.path)?, &options(policy), &mut v, None)?;
    Ok(features)
}

/// Which columns of a dataset become features, and how (numbers as
/// they are, repeating categories of at most [`MAX_CATEGORY_VALUES`]
/// values), leaving out the label and columns that cannot be features
/// (ids, free text); the second list names those.
#[allow(clippy::type_complexity)]
fn feature_plan(
    path: &Path,
    label: Option<&String>,
    policy: &Policy,
    purpose: &str,
) -> Result<(
    Vec<(String, rampart_profile::outliers::Encoding)>,
    Vec<String>,
)> {
    use rampart_profile::outliers::Encoding;
    let (mut profile, _) = profile_columns(path, policy)?;
    let mut plan = Vec::new();
    let mut left_out = Vec::new();
    for c in &mut profile.columns {
        if Some(&c.name) == label {
            continue;
        }
        let encoding = match c.type_name() {
            "integer" | "float" => Some(Encoding::Number),
            // A category repeats: a column of mostly distinct values is
            // an id or free text.
            _ if c.distinct_count() <= MAX_CATEGORY_VALUES
                && c.distinct_count().saturating_mul(2) <= profile.rows =>
            {
                Some(Encoding::Category)
            }
            _ => None,
        };
        match encoding {
            Some(e) => plan.push((c.name.clone(), e)),
            None => left_out.push(c.name.clone()),
        }
    }
    if plan.is_empty() {
        bail!(
            "{}: no column can be a feature for {purpose} (numbers, or at most {MAX_CATEGORY_VALUES} distinct values)",
            path.display()
        );
    }
    Ok((plan, left_out))
}

/// Isolation Forest outliers of the features, as one finding, and what the
/// forest was built from (features, columns left out, time to fit and
/// score).
fn outliers(
    a: &PoisonArgs,
    features: Features,
) -> Result<(
    Option<rampart_profile::duplicates::Finding>,
    serde_json::Value,
)> {
    use rampart_profile::outliers::{Forest, Settings};
    let Features {
        plan,
        left_out,
        builder,
        ..
    } = features;
    let (matrix, rows) = builder.finish();
    let progress = crate::progress::spinner(&format!("isolation forest over {} rows", rows.len()));
    let settings = Settings {
        trees: usize::from(a.trees),
        seed: a.seed,
        ..Settings::default()
    };
    let started = std::time::Instant::now();
    let scores = Forest::fit(&matrix, settings).score_all(&matrix);
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    let info = json!({
        "features": plan.iter().map(|(name, e)| json!({"column": name, "as": format!("{e:?}").to_lowercase()})).collect::<Vec<_>>(),
        "left_out": left_out,
        "threshold": a.outlier_threshold,
        "trees": settings.trees,
        "seed": a.seed,
        "seconds_to_fit_and_score": seconds,
    });
    if let Some(path) = &a.scores {
        write_scores(path, &rows, &scores)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut flagged: Vec<(f64, u64, u64)> = rows
        .iter()
        .zip(&scores)
        .filter(|(_, s)| **s >= a.outlier_threshold)
        .map(|((record, line), s)| (*s, *record, *line))
        .collect();
    if flagged.is_empty() {
        return Ok((None, info));
    }
    // Highest scores first among the lines shown; records in file order.
    flagged.sort_by(|x, y| y.0.total_cmp(&x.0));
    let shown = flagged.iter().take(20).map(|f| f.2).collect();
    let mut drop: Vec<u64> = flagged.iter().map(|f| f.1).collect();
    drop.sort_unstable();
    let finding = rampart_profile::duplicates::Finding {
        kind: "outlier",
        rows: shown,
        count: flagged.len() as u64,
        labels: Vec::new(),
        drop,
        column: None,
        value: None,
        counts: BTreeMap::new(),
    };
    Ok((Some(finding), info))
}

/// Every row's score as CSV, streamed to a temporary file renamed when
/// complete.
fn write_scores(path: &Path, rows: &[(u64, u64)], scores: &[f64]) -> std::io::Result<()> {
    let tmp = rampart_core::temp_beside(path)?;
    let mut w = std::io::BufWriter::new(tmp.as_file());
    w.write_all(b"record,line,score\n")?;
    for ((record, line), score) in rows.iter().zip(scores) {
        writeln!(w, "{record},{line},{score}")?;
    }
    w.flush()?;
    drop(w);
    rampart_core::persist(tmp, path)
}

/// What `data filter` reads of a poison report.
#[derive(serde::Deserialize)]
struct Report {
    sha256: String,
    #[serde(default)]
    truncated: bool,
    findings: Vec<ReportFinding>,
}

#[derive(serde::Deserialize)]
struct ReportFinding {
    kind: String,
    drop: Vec<u64>,
}

/// Keeps every record but those to drop.
struct DropRecords(std::collections::HashSet<u64>);

impl Visitor for DropRecords {
    fn cell(&mut self, _: &Cell) -> Option<String> {
        None
    }
    fn keep_record(&self, record: u64) -> bool {
        !self.0.contains(&record)
    }
}

fn filter(a: &FilterArgs) -> Result<ExitCode> {
    let (policy, _) = load_policy(&Masking::default(), &a.common)?;
    crate::output::check(&a.output, std::slice::from_ref(&a.input))?;
    let report_text = std::fs::read_to_string(&a.drop_findings)
        .with_context(|| format!("cannot read the report {}", a.drop_findings.display()))?;
    let report: Report = serde_json::from_str(&report_text).with_context(|| {
        format!(
            "{} is not a report of `rampart data poison --json`",
            a.drop_findings.display()
        )
    })?;
    if report.truncated {
        bail!(
            "{} lists only some of its rows (more than {} repeats, or a group of more than {} near duplicates): filter in parts, or remove the duplicates another way first",
            a.drop_findings.display(),
            rampart_profile::duplicates::MAX_LISTED,
            rampart_profile::near::MAX_GROUP_ROWS
        );
    }
    let digest = crate::attest::artifact_digest(&a.input)?;
    if digest != report.sha256 {
        bail!(
            "{} was made for a file with SHA-256 {}, and {} has {digest}: run `rampart data poison {} --json` again",
            a.drop_findings.display(),
            report.sha256,
            a.input.display(),
            a.input.display()
        );
    }
    let known = [
        "duplicate",
        "conflicting-labels",
        "leak",
        "near-duplicate",
        "near-leak",
        "outlier",
        "backdoor-trigger",
        "label-issue",
    ];
    if let Some(k) = a.kinds.iter().find(|k| !known.contains(&k.as_str())) {
        bail!("unknown kind of finding {k:?}: use {}", known.join(", "));
    }
    let chosen = report
        .findings
        .iter()
        .filter(|f| a.kinds.is_empty() || a.kinds.contains(&f.kind));
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    let mut drop = std::collections::HashSet::new();
    for f in chosen {
        let added = f.drop.iter().filter(|r| drop.insert(**r)).count() as u64;
        *by_kind.entry(f.kind.as_str()).or_default() += added;
    }
    let source = detect(&a.input)?;
    let mut v = DropRecords(drop);
    let summary = rewrite(&source, &policy, &mut v, &a.output, "filtering", &[])?;
    let dropped = (1..=summary.records).filter(|r| v.0.contains(r)).count() as u64;
    let kept = summary.records - dropped;
    if a.json {
        let out = json!({"input": a.input.display().to_string(), "output": a.output.display().to_string(),
            "rows": summary.records, "dropped": dropped, "kept": kept, "dropped_by_kind": by_kind});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "{}: dropped {dropped} of {} rows ({}); wrote {kept} row{} to {}",
            a.input.display(),
            summary.records,
            if kinds.is_empty() {
                "nothing to drop".to_string()
            } else {
                kinds.join(", ")
            },
            if kept == 1 { "" } else { "s" },
            a.output.display()
        );
    }
    let predicate = json!({"passed": true, "rows": summary.records, "dropped": dropped,
        "dropped_by_kind": by_kind, "report_sha256": crate::attest::sha256_hex(report_text.as_bytes())});
    record_attestation(
        &a.common,
        "data-filter",
        &[a.input.clone(), a.output.clone()],
        predicate,
    )?;
    Ok(ExitCode::SUCCESS)
}
