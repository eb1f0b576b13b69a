//! The data commands as gates: each reads datasets through
//! rampart-dataset and gives an [`Outcome`] whose report renders for
//! people and machines and becomes its attestation.

use crate::{Context, Error, Gate, Outcome, Report};
use rampart_dataset::{pii::Direction, Reading};
use rampart_evidence::Started;
use rampart_profile::duplicates::FindingKind;
use std::path::PathBuf;

fn read(path: &std::path::Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn outcome(
    gate: &'static str,
    inputs: Vec<PathBuf>,
    passed: bool,
    report: Report,
    started: Started,
) -> Outcome {
    let summary = summary(&report);
    Outcome {
        gate,
        inputs,
        passed,
        summary,
        report,
        findings: Vec::new(),
        warnings: Vec::new(),
        started,
    }
}

/// One line for a pipeline's table and the attestation.
fn summary(report: &Report) -> String {
    match report {
        Report::Profile(p) => format!("{} rows, {} columns", p.rows, p.columns),
        Report::Validate(r, _) => format!(
            "{} of {} expectations failed on {} rows",
            r.failures.len(),
            r.checked,
            r.rows
        ),
        Report::Poison(p) => format!(
            "{} findings over {} rows",
            p.report.findings.len(),
            p.report.rows
        ),
        Report::Filter(f) => format!("dropped {} of {} rows", f.filtered.dropped, f.filtered.rows),
        Report::Drift(d) => format!(
            "{} of {} tested columns drifted{}",
            d.report.drifted,
            d.report.tested,
            if d.schema_changed() {
                "; columns added or removed"
            } else {
                ""
            }
        ),
        Report::Mask(m, ..) => format!(
            "{} records written, {} values could not be transformed",
            m.records, m.failed_count
        ),
        _ => String::new(),
    }
}

/// The score threshold of the personal-data recognisers, unless a policy
/// or a flag says otherwise.
#[cfg(feature = "clap")]
const THRESHOLD: f32 = rampart_pii::transform::DEFAULT_THRESHOLD;

/// `data-profile`: datasets profiled (or profiles merged) into `output`.
///
/// With the `clap` feature each gate's public fields are also its
/// command line's flags (the reading settings and thresholds, which come
/// from a policy, are not): one definition serves every front end.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Profile {
    /// Datasets, or with --merge, profiles.
    #[cfg_attr(feature = "clap", arg(required = true))]
    pub paths: Vec<PathBuf>,
    /// Where to write the profile (JSON; written atomically).
    #[cfg_attr(feature = "clap", arg(short, long))]
    pub output: PathBuf,
    /// The inputs are profiles to merge.
    #[cfg_attr(feature = "clap", arg(long))]
    pub merge: bool,
    /// Keep personal data among the values written as it is. By default
    /// the values in which the PII recognisers find personal data are
    /// masked (`***** **ith`): these files are meant to be shared and
    /// committed.
    #[cfg_attr(feature = "clap", arg(long))]
    pub keep_personal_data: bool,
    #[cfg_attr(feature = "clap", arg(skip = THRESHOLD))]
    pub threshold: f32,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

/// What a profile run wrote.
#[derive(Debug)]
pub struct Profiled {
    pub output: PathBuf,
    pub rows: u64,
    pub columns: usize,
    pub merged: bool,
    pub profile_sha256: String,
    /// Each column's derived statistics.
    pub summary: Vec<serde_json::Value>,
}

impl Gate for Profile {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("data-profile", self.paths.clone())
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let mut profile = rampart_profile::Profile::default();
        let mut warnings = Vec::new();
        for path in &self.paths {
            let other = if self.merge {
                rampart_dataset::profile::read_for_merge(path)?
            } else {
                let p = rampart_dataset::profile::of_dataset(path, &self.reading, ctx.watch)?;
                warnings.extend(p.warnings);
                p.profile
            };
            profile
                .merge(&other)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        }
        if !self.keep_personal_data {
            rampart_dataset::profile::mask(&mut profile, self.threshold);
        }
        let (mut text, summary) = profile
            .to_json_text()
            .map_err(|e| Error::Config(e.to_string()))?;
        text.push('\n');
        rampart_core::write_atomic(&self.output, text.as_bytes()).map_err(|source| {
            Error::Write {
                path: self.output.clone(),
                source,
            }
        })?;
        let mut inputs = self.paths.clone();
        inputs.push(self.output.clone());
        let report = Report::Profile(Box::new(Profiled {
            output: self.output.clone(),
            rows: profile.rows,
            columns: profile.columns.len(),
            merged: self.merge,
            profile_sha256: rampart_evidence::sha256_hex(text.as_bytes()),
            summary,
        }));
        Ok(Outcome {
            warnings,
            ..outcome("data-profile", inputs, true, report, started)
        })
    }
}

/// `data-validate`: a dataset against the expectations in a file.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Validate {
    /// The dataset to check.
    pub path: PathBuf,
    /// The expectations (TOML).
    #[cfg_attr(feature = "clap", arg(long = "expect"))]
    pub expectations: PathBuf,
    #[cfg_attr(feature = "clap", arg(skip = THRESHOLD))]
    pub threshold: f32,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

impl Gate for Validate {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("data-validate", vec![self.path.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let text = read(&self.expectations)?;
        let e = rampart_profile::expect::Expectations::parse(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", self.expectations.display())))?;
        let r = rampart_dataset::validate::validate(
            &self.path,
            e,
            self.threshold,
            &self.reading,
            ctx.watch,
        )
        .map_err(|e| match e {
            rampart_dataset::Error::Invalid(m) => {
                Error::Config(format!("in {}: {m}", self.expectations.display()))
            }
            e => e.into(),
        })?;
        let passed = r.passed();
        let digest = rampart_evidence::sha256_hex(text.as_bytes());
        Ok(outcome(
            "data-validate",
            vec![self.path.clone()],
            passed,
            Report::Validate(Box::new(r), digest),
            started,
        ))
    }
}

/// `data-poison`: rows to drop before training. Its fields are the
/// command line's flags (with the `clap` feature); the checks run with
/// the options they make ([`Poison::options`]).
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Poison {
    /// The dataset to check.
    pub path: PathBuf,
    /// The label column: left out of the row comparison, and compared
    /// within groups of duplicates.
    #[cfg_attr(feature = "clap", arg(long))]
    pub label: Option<String>,
    /// A training set: rows of PATH also in it are reported as leaks.
    #[cfg_attr(feature = "clap", arg(long))]
    pub leak_from: Option<PathBuf>,
    /// Also find near duplicates (and, with --leak-from, rows near a
    /// training row): rows whose values and words overlap at least this
    /// much (Jaccard similarity, estimated by MinHash with LSH), e.g. 0.8.
    #[cfg_attr(feature = "clap", arg(long))]
    pub near: Option<f64>,
    /// A clean dataset of the same kind: a label distribution that moved
    /// from the reference's by more than --max-label-shift is a finding.
    #[cfg_attr(feature = "clap", arg(long, requires = "label"))]
    pub reference: Option<PathBuf>,
    /// The largest accepted change of the label distribution against
    /// --reference, in total variation: the share of rows whose label
    /// would have to change.
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 0.1, requires = "reference")
    )]
    pub max_label_shift: f64,
    /// Columns that name groups (sex, region, age band): a value held by
    /// fewer than --min-share of the rows is an under-represented group.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub groups: Vec<String>,
    /// The smallest share of rows a label (class imbalance) or a group
    /// value should have.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.05))]
    pub min_share: f64,
    /// Also look for outliers with an Isolation Forest over every column
    /// but the label: numbers as they are, columns of at most 1,000
    /// distinct values (and at most one per two rows) by frequency,
    /// others (ids, free text) left out. Adds two reads of the file: one
    /// to type the columns, one for the features.
    #[cfg_attr(feature = "clap", arg(long))]
    pub outliers: bool,
    /// Rows scoring at least this are reported as outliers (scores run
    /// from 0 to 1; ordinary rows score about 0.5 or less).
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 0.65, requires = "outliers")
    )]
    pub outlier_threshold: f64,
    /// Trees in the forest (1 to 10,000).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 100, requires = "outliers",
        value_parser = clap::value_parser!(u16).range(1..=10_000)))]
    pub trees: u16,
    /// Seed of the forest (and of the folds of --label-issues): the same
    /// seed gives the same scores.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// Write every row's outlier score to this CSV (record, line, score).
    #[cfg_attr(feature = "clap", arg(long, requires = "outliers"))]
    pub scores: Option<PathBuf>,
    /// Also find label errors by confident learning (as cleanlab's
    /// find_label_issues): out-of-fold class probabilities from a
    /// logistic regression trained inside Rampart on the features that
    /// --outliers uses (numbers standardised, categories one-hot), then
    /// rows whose label those probabilities contradict.
    #[cfg_attr(feature = "clap", arg(long, requires = "label"))]
    pub label_issues: bool,
    /// Use these out-of-fold class probabilities instead of training a
    /// model: a CSV (or any table) with one column per class, named by
    /// the label values, and one row per row of PATH, in order.
    #[cfg_attr(feature = "clap", arg(long, requires = "label"))]
    pub pred_probs: Option<PathBuf>,
    /// Folds of the cross-validation for --label-issues (2 to 20).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 5,
        value_parser = clap::value_parser!(u8).range(2..=20)))]
    pub folds: u8,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

impl Poison {
    /// The files a run reads: the dataset, the training set of
    /// `leak_from`, the `reference`.
    fn reads_paths(&self) -> Vec<PathBuf> {
        let mut inputs = vec![self.path.clone()];
        inputs.extend(self.leak_from.iter().cloned());
        inputs.extend(self.reference.iter().cloned());
        inputs
    }

    /// The checks the fields ask for: outliers only with `outliers`,
    /// label issues with `label_issues` or `pred_probs`.
    pub fn options(&self) -> rampart_dataset::poison::Options {
        use rampart_dataset::poison::{LabelIssues, Options, Outliers};
        Options {
            label: self.label.clone(),
            leak_from: self.leak_from.clone(),
            near: self.near,
            reference: self.reference.clone(),
            max_label_shift: self.max_label_shift,
            groups: self.groups.clone(),
            min_share: self.min_share,
            outliers: self.outliers.then(|| Outliers {
                threshold: self.outlier_threshold,
                trees: usize::from(self.trees),
                seed: self.seed,
                scores: self.scores.clone(),
            }),
            label_issues: (self.label_issues || self.pred_probs.is_some()).then(|| LabelIssues {
                pred_probs: self.pred_probs.clone(),
                folds: usize::from(self.folds),
                seed: self.seed,
            }),
        }
    }
}

impl Gate for Poison {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("data-poison", self.reads_paths())
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let options = self.options();
        let r = rampart_dataset::poison::check(&self.path, &options, &self.reading, ctx.watch)?;
        let inputs = self.reads_paths();
        let passed = r.passed();
        let warnings = r.warnings.clone();
        let run = PoisonRun {
            file: self.path.clone(),
            report: r,
            options,
        };
        Ok(Outcome {
            warnings,
            ..outcome(
                "data-poison",
                inputs,
                passed,
                Report::Poison(Box::new(run)),
                started,
            )
        })
    }
}

/// A poison check of `file`. Its JSON adds the file's SHA-256, which
/// `rampart data filter` checks; it is computed only when JSON is
/// written, not on every run.
#[derive(Debug)]
pub struct PoisonRun {
    pub file: PathBuf,
    pub report: rampart_dataset::poison::Report,
    pub options: rampart_dataset::poison::Options,
}

/// A filter run: what was dropped from `input` into `output`.
#[derive(Debug, serde::Serialize)]
pub struct FilterRun {
    pub input: PathBuf,
    pub output: PathBuf,
    #[serde(flatten)]
    pub filtered: rampart_dataset::filter::Filtered,
    #[serde(skip)]
    pub report_sha256: String,
}

impl FilterRun {
    /// One line for people.
    pub fn text(&self) -> String {
        let f = &self.filtered;
        let kinds: Vec<String> = f
            .dropped_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        format!(
            "{}: dropped {} of {} rows ({}); wrote {} row{} to {}\n",
            self.input.display(),
            f.dropped,
            f.rows,
            if kinds.is_empty() {
                "nothing to drop".to_string()
            } else {
                kinds.join(", ")
            },
            f.kept,
            if f.kept == 1 { "" } else { "s" },
            self.output.display()
        )
    }
}

/// `data-filter`: a dataset without the rows a poison report names.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Filter {
    /// The dataset the report was made of.
    pub input: PathBuf,
    /// Where to write the rows kept, in the input's format.
    pub output: PathBuf,
    /// A report of `rampart data poison INPUT --json`.
    #[cfg_attr(feature = "clap", arg(long = "drop-findings"))]
    pub report: PathBuf,
    /// Only these kinds of findings, comma-separated; all by default.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', value_parser = droppable_kinds()))]
    pub kinds: Vec<FindingKind>,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

/// `--kinds`: the kinds of finding that name rows to drop, listed in
/// `--help`.
#[cfg(feature = "clap")]
fn droppable_kinds() -> impl clap::builder::TypedValueParser<Value = FindingKind> {
    use clap::builder::TypedValueParser;
    let names = FindingKind::ALL.iter().filter(|k| k.droppable());
    clap::builder::PossibleValuesParser::new(names.map(|k| k.name()))
        .try_map(|s| s.parse::<FindingKind>())
}

impl Gate for Filter {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("data-filter", vec![self.input.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let text = read(&self.report)?;
        let report = rampart_dataset::filter::PoisonFile::parse(&text, &self.report)?;
        let f = rampart_dataset::filter::filter(
            &self.input,
            &self.output,
            &report,
            &self.report,
            &self.kinds,
            &self.reading,
            ctx.watch,
        )?;
        let run = FilterRun {
            input: self.input.clone(),
            output: self.output.clone(),
            filtered: f,
            report_sha256: rampart_evidence::sha256_hex(text.as_bytes()),
        };
        let inputs = vec![self.input.clone(), self.output.clone()];
        Ok(outcome(
            "data-filter",
            inputs,
            true,
            Report::Filter(Box::new(run)),
            started,
        ))
    }
}

/// `data-drift`: current data against a reference.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Drift {
    /// The reference: a dataset (CSV/TSV, JSON Lines, JSON, Parquet,
    /// compressed or not) or a profile from `rampart data profile`.
    pub reference: PathBuf,
    /// The current data, in any of the same forms.
    pub current: PathBuf,
    #[cfg_attr(feature = "clap", command(flatten))]
    pub options: rampart_profile::drift::Options,
    /// Numbers of a column kept exactly, per side; past this a column is
    /// compared through its t-digest (KS statistic within 0.2%), so memory
    /// stays bounded. Exact statistics equal scipy's.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 100_000))]
    pub exact_limit: usize,
    #[cfg_attr(feature = "clap", arg(skip = THRESHOLD))]
    pub threshold: f32,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

impl Gate for Drift {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        (
            "data-drift",
            vec![self.reference.clone(), self.current.clone()],
        )
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let d = rampart_dataset::drift::drift(
            &self.reference,
            &self.current,
            &self.options,
            self.exact_limit,
            self.threshold,
            &self.reading,
            ctx.watch,
        )?;
        if d.untestable() {
            return Err(Error::Untestable {
                table: rampart_dataset::drift::text(&d.report),
                columns: d.report.columns.len(),
            });
        }
        let inputs = vec![self.reference.clone(), self.current.clone()];
        Ok(Outcome {
            warnings: d.warnings.clone(),
            ..outcome(
                "data-drift",
                inputs,
                d.passed(),
                Report::Drift(Box::new(d)),
                started,
            )
        })
    }
}

/// `pii-mask` / `pii-unmask`: a dataset rewritten with personal data
/// masked, or its reversible tokens opened.
pub struct Mask {
    pub input: PathBuf,
    pub output: PathBuf,
    pub policy: rampart_pii::transform::Policy,
    pub keys: Option<rampart_pii::transform::Keys>,
    pub direction: Direction,
    pub reading: Reading,
}

impl Gate for Mask {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        (
            match self.direction {
                Direction::Mask => "pii-mask",
                Direction::Unmask => "pii-unmask",
            },
            vec![self.input.clone()],
        )
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let m = rampart_dataset::pii::mask(
            &self.input,
            &self.output,
            &self.policy,
            self.keys.as_ref(),
            self.direction,
            &self.reading,
            ctx.watch,
        )?;
        let gate = match self.direction {
            Direction::Mask => "pii-mask",
            Direction::Unmask => "pii-unmask",
        };
        let inputs = vec![self.input.clone(), self.output.clone()];
        let passed = m.failed_count == 0;
        let mut warnings = m.failed.clone();
        warnings.extend(m.warnings.iter().cloned());
        Ok(Outcome {
            warnings,
            ..outcome(
                gate,
                inputs,
                passed,
                Report::Mask(
                    Box::new(m),
                    self.direction,
                    self.policy.threshold,
                    self.output.clone(),
                ),
                started,
            )
        })
    }
}
