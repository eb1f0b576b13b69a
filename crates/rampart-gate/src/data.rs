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

/// `data-profile`: datasets profiled (or profiles merged) into `output`.
pub struct Profile {
    pub paths: Vec<PathBuf>,
    pub output: PathBuf,
    /// The inputs are profiles to merge.
    pub merge: bool,
    /// Personal data among the values written is masked unless this.
    pub keep_personal_data: bool,
    pub threshold: f32,
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
pub struct Validate {
    pub path: PathBuf,
    pub expectations: PathBuf,
    pub threshold: f32,
    pub reading: Reading,
}

impl Gate for Validate {
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

/// `data-poison`: rows to drop before training.
pub struct Poison {
    pub path: PathBuf,
    pub options: rampart_dataset::poison::Options,
    pub reading: Reading,
}

impl Gate for Poison {
    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let r =
            rampart_dataset::poison::check(&self.path, &self.options, &self.reading, ctx.watch)?;
        let mut inputs = vec![self.path.clone()];
        inputs.extend(self.options.leak_from.iter().cloned());
        inputs.extend(self.options.reference.iter().cloned());
        let passed = r.passed();
        let warnings = r.warnings.clone();
        let run = PoisonRun {
            file: self.path.clone(),
            report: r,
            options: self.options.clone(),
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
pub struct Filter {
    pub input: PathBuf,
    pub output: PathBuf,
    pub report: PathBuf,
    /// Only these kinds (all when empty).
    pub kinds: Vec<FindingKind>,
    pub reading: Reading,
}

impl Gate for Filter {
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
pub struct Drift {
    pub reference: PathBuf,
    pub current: PathBuf,
    pub options: rampart_profile::drift::Options,
    pub exact_limit: usize,
    pub threshold: f32,
    pub reading: Reading,
}

impl Gate for Drift {
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
