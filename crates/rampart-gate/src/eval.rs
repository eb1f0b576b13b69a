//! `eval`: an ONNX model measured on an evaluation set, judged by
//! thresholds on its quality and its fairness between groups.

use crate::{Context, Error, Gate, Outcome, Report};
use rampart_dataset::Reading;
use rampart_eval::{Bound, Evaluation, Threshold, Verdict};
use rampart_evidence::Started;
use serde::Serialize;
use std::path::PathBuf;

/// What the gate attests: the model and the evaluation data.
pub const GATE: &str = "eval";

/// The fewest bootstrap resamples that give an interval (a 95% interval
/// from 100 has 2.5 resamples beyond each end).
const MIN_RESAMPLES: u32 = 100;

/// The most bootstrap resamples a run may ask for (each costs a pass
/// over every row).
const MAX_RESAMPLES: u32 = 100_000;

/// `eval`: a model on its evaluation data, by thresholds.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Eval {
    /// The ONNX model (skl2onnx, onnxmltools, torch.onnx exports).
    pub model: PathBuf,
    /// The evaluation dataset: CSV/TSV, JSON Lines, JSON or Parquet
    /// (gzip or zstd too).
    #[cfg_attr(feature = "clap", arg(long))]
    pub data: PathBuf,
    /// The column of the truth.
    #[cfg_attr(feature = "clap", arg(long))]
    pub label: String,
    /// Feature columns in the model's input order [default: every column
    /// but the label and the sensitive features, in file order].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub features: Vec<String>,
    /// The label values in the order of the model's classes, as
    /// `--classes '<=50K,>50K'` for a model trained on 0 and 1 [default:
    /// the model's own integer labels].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub classes: Vec<String>,
    /// Sensitive features: fairness by each combination of their values.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub sensitive: Vec<String>,
    /// The privileged group for disparate impact, a value per sensitive
    /// feature (`sex=Male,race=White`) [default: the group selected
    /// most].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', value_parser = pair))]
    pub privileged: Vec<(String, String)>,
    /// The favourable decision for fairness [default: the second class].
    #[cfg_attr(feature = "clap", arg(long))]
    pub positive: Option<String>,
    /// Groups with fewer rows are reported as too small to judge.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 30))]
    pub min_group: u64,
    /// Fail when a measure is below a value: `--min accuracy=0.8`
    /// (repeat for more). `rampart eval --help` lists the names.
    #[cfg_attr(feature = "clap", arg(long = "min", value_name = "MEASURE=VALUE", value_parser = min))]
    pub min: Vec<Threshold>,
    /// Fail when a measure is above a value: `--max log_loss=0.4`,
    /// `--max demographic_parity_difference=0.1`.
    #[cfg_attr(feature = "clap", arg(long = "max", value_name = "MEASURE=VALUE", value_parser = max))]
    pub max: Vec<Threshold>,
    /// Fail when a group's selection rate is under four fifths of the
    /// reference group's: the --privileged group, else the highest
    /// (groups under --min-group are not judged; fewer than two judged
    /// groups fail).
    #[cfg_attr(feature = "clap", arg(long))]
    pub four_fifths: bool,
    /// The evaluation data's lock: refuse any file whose SHA-256 is not
    /// this (`sha256:HEX`, as `sha256sum` prints it).
    #[cfg_attr(feature = "clap", arg(long, value_name = "sha256:HEX"))]
    pub eval_data: Option<String>,
    /// The training data: evaluation rows also in it (all columns but the
    /// label equal, after trimming and lowercasing) fail the gate, as
    /// `rampart data poison --leak-from` finds them.
    #[cfg_attr(feature = "clap", arg(long, value_name = "DATASET"))]
    pub train: Option<PathBuf>,
    /// With --train: rows this similar to a training row (Jaccard, 0 to
    /// 1, as 0.9) are near leaks and fail the gate too.
    #[cfg_attr(feature = "clap", arg(long, requires = "train"))]
    pub near: Option<f64>,
    /// Bootstrap resamples for the confidence intervals (0: none; at
    /// most 100000).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1000))]
    pub bootstrap: u32,
    /// The intervals' coverage.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.95))]
    pub confidence: f64,
    /// Seed of the resamples: the same seed, the same intervals.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// The model's scores are logits: apply softmax.
    #[cfg_attr(feature = "clap", arg(long))]
    pub logits: bool,
    /// Set by the caller (the CLI flattens [`Attacking`] beside this:
    /// clap cannot tell whether an optional struct with a flattened one
    /// inside was given).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub attacking: Attacking,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

/// Adversarial attacks on the model: which, on how many rows, with what
/// budget and constraints.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Attacking {
    /// Black-box evasion attacks on a seeded sample of the rows the model
    /// gets right: hopskipjump, boundary (decisions only), simba, square
    /// (probabilities), tabular (the data's ranges, integers, categories).
    /// A threshold on NAME_success_rate runs its attack too.
    #[cfg_attr(feature = "clap", arg(long = "attack", value_name = "ATTACK", value_delimiter = ',', value_parser = attack))]
    pub attacks: Vec<rampart_eval::attack::Attack>,
    /// Rows attacked: a seeded sample of those the model classifies
    /// correctly.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1000))]
    pub attack_rows: usize,
    /// Model queries each attack may make per row.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1000))]
    pub queries: u64,
    /// Square's L∞ budget and SimBA's step, as a fraction of the input
    /// domain's width (--bounds, else the widest feature's range).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.1))]
    pub epsilon: f64,
    /// Targeted attacks: the class (a label value) to reach [default: any
    /// other class].
    #[cfg_attr(feature = "clap", arg(long))]
    pub target: Option<String>,
    /// One input domain for every feature, as `0,1` for pixels [default:
    /// each feature's range in the data].
    #[cfg_attr(feature = "clap", arg(long, value_name = "LOW,HIGH", value_parser = bounds))]
    pub bounds: Option<(f64, f64)>,
    /// Features no attack may change (as age,sex).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub immutable: Vec<String>,
    /// Features whose values are categories: the tabular search sets only
    /// values seen in the data.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub categorical: Vec<String>,
}

impl Default for Attacking {
    fn default() -> Attacking {
        let d = rampart_eval::attack::Options::default();
        Attacking {
            attacks: Vec::new(),
            attack_rows: d.rows,
            queries: d.queries,
            epsilon: d.epsilon,
            target: None,
            bounds: None,
            immutable: Vec::new(),
            categorical: Vec::new(),
        }
    }
}

impl Attacking {
    /// Whether any attack setting differs from its default: settings
    /// without an attack to apply to are a mistake to report, not to
    /// ignore (the user meant a robustness test to run).
    fn tuned(&self) -> bool {
        let plain = Attacking {
            attacks: self.attacks.clone(),
            ..Attacking::default()
        };
        *self != plain
    }

    /// The attack options: the attacks named, and those a threshold
    /// bounds (None: no attack).
    pub fn options(
        &self,
        thresholds: &[Threshold],
        seed: u64,
    ) -> Option<rampart_eval::attack::Options> {
        let mut attacks = self.attacks.clone();
        for t in thresholds {
            if let rampart_eval::Measure::SuccessRate(a) = t.measure {
                attacks.push(a);
            }
        }
        let mut seen = Vec::new();
        attacks.retain(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        });
        (!attacks.is_empty()).then(|| rampart_eval::attack::Options {
            attacks,
            rows: self.attack_rows,
            queries: self.queries,
            epsilon: self.epsilon,
            target: self.target.clone(),
            bounds: self.bounds,
            immutable: self.immutable.clone(),
            categorical: self.categorical.clone(),
            seed,
        })
    }
}

#[cfg(feature = "clap")]
fn attack(s: &str) -> Result<rampart_eval::attack::Attack, String> {
    rampart_eval::attack::Attack::parse(s).ok_or_else(|| {
        format!(
            "no attack {s:?}; the attacks are {}",
            rampart_eval::attack::ATTACKS.map(|a| a.name()).join(", ")
        )
    })
}

#[cfg(feature = "clap")]
fn bounds(s: &str) -> Result<(f64, f64), String> {
    let parsed = s
        .split_once(',')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
    match parsed {
        Some((a, b)) if a.is_finite() && b.is_finite() && a < b => Ok((a, b)),
        _ => Err(format!("{s:?}: expected LOW,HIGH with LOW < HIGH, as 0,1")),
    }
}

/// `name=value` of `--privileged`.
#[cfg(feature = "clap")]
fn pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected FEATURE=VALUE, as sex=Male"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

#[cfg(feature = "clap")]
fn min(s: &str) -> Result<Threshold, String> {
    Threshold::parse(Bound::Min, s)
}

#[cfg(feature = "clap")]
fn max(s: &str) -> Result<Threshold, String> {
    Threshold::parse(Bound::Max, s)
}

/// An evaluation and its verdict: the gate's report.
#[derive(Debug, Serialize)]
pub struct EvalRun {
    #[serde(flatten)]
    pub evaluation: Evaluation,
    pub verdict: Verdict,
    /// Evaluation rows found in the training data (with --train).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Overlap>,
}

/// Evaluation rows that are also training rows: a model measured on
/// rows it learnt is not measured.
#[derive(Debug, Clone, Serialize)]
pub struct Overlap {
    pub train: PathBuf,
    pub train_sha256: String,
    /// Rows equal to a training row (but for the label).
    pub leaked: u64,
    /// Rows nearly equal to one (with --near).
    pub near: u64,
    /// The lines of the first of them in the evaluation data.
    pub lines: Vec<u64>,
}

impl Overlap {
    pub fn rows(&self) -> u64 {
        self.leaked + self.near
    }
}

impl Eval {
    pub fn thresholds(&self) -> Vec<Threshold> {
        self.min.iter().chain(&self.max).copied().collect()
    }

    pub fn options(&self) -> rampart_eval::Options {
        let mut groups = self.sensitive.clone();
        groups.dedup();
        rampart_eval::Options {
            model: self.model.clone(),
            data: self.data.clone(),
            mapping: rampart_eval::data::Mapping {
                features: self.features.clone(),
                label: Some(self.label.clone()),
                groups,
                slices: Vec::new(),
            },
            task: rampart_eval::Task::Auto,
            classes: self.classes.clone(),
            positive: self.positive.clone(),
            logits: self.logits,
            bootstrap: rampart_eval::Bootstrap {
                resamples: self.bootstrap,
                confidence: self.confidence,
                seed: self.seed,
            },
            privileged: self.privileged.clone(),
            min_group: self.min_group,
            data_sha256: self.eval_data.clone(),
            reading: self.reading.options(None),
            attacks: self.attacking.options(&self.thresholds(), self.seed),
        }
    }

    /// Evaluates and judges without recording (`--predictions` needs the
    /// evaluation's rows).
    pub fn evaluate(&self, watch: &dyn rampart_dataset::Watch) -> Result<EvalRun, Error> {
        if self.bootstrap > MAX_RESAMPLES || (1..MIN_RESAMPLES).contains(&self.bootstrap) {
            return Err(Error::Config(format!(
                "--bootstrap {}: 0 (no intervals) or {MIN_RESAMPLES} to {MAX_RESAMPLES} resamples; fewer cannot place a 95% interval's ends",
                self.bootstrap
            )));
        }
        if !(0.0..1.0).contains(&self.confidence) || self.confidence <= 0.0 {
            return Err(Error::Config(format!(
                "--confidence {}: a coverage between 0 and 1, as 0.95",
                self.confidence
            )));
        }
        let fairness_asked = self.four_fifths
            || self
                .thresholds()
                .iter()
                .any(|t| matches!(t.measure, rampart_eval::Measure::Fairness(_)));
        if fairness_asked && self.sensitive.is_empty() {
            return Err(Error::Config(
                "a fairness threshold needs the sensitive features: name them with --sensitive"
                    .into(),
            ));
        }
        let options = self.options();
        if options.attacks.is_none() && self.attacking.tuned() {
            return Err(Error::Config(
                "attack settings (--attack-rows, --queries, --epsilon, --target, --bounds, --immutable, --categorical) were given, but no attack runs: name one with --attack, or bound NAME_success_rate".into(),
            ));
        }
        let evaluation = rampart_eval::evaluate(&options)?;
        // The attestation re-hashes what it names: bytes that changed
        // while they were evaluated would be attested unevaluated.
        for a in [&evaluation.model, &evaluation.data] {
            let now = rampart_sign::artifact_digest(&a.path)?;
            if now != a.sha256 {
                return Err(Error::Config(format!(
                    "{} changed while it was evaluated (SHA-256 {} then {now}); evaluate again",
                    a.path.display(),
                    a.sha256
                )));
            }
        }
        let mut verdict = rampart_eval::judge(&evaluation, &self.thresholds(), self.four_fifths);
        let overlap = match &self.train {
            Some(train) => Some(self.overlap(train, watch)?),
            None => None,
        };
        if overlap.as_ref().is_some_and(|o| o.rows() > 0) {
            verdict.passed = false;
        }
        Ok(EvalRun {
            evaluation,
            verdict,
            overlap,
        })
    }

    /// The evaluation rows also in `train`, by the poisoning checks'
    /// leak detection (the label left out of the comparison).
    fn overlap(
        &self,
        train: &std::path::Path,
        watch: &dyn rampart_dataset::Watch,
    ) -> Result<Overlap, Error> {
        use rampart_profile::duplicates::FindingKind;
        if let Some(t) = self.near.filter(|t| !(*t > 0.0 && *t <= 1.0)) {
            return Err(Error::Config(format!(
                "--near {t}: a Jaccard similarity above 0 and at most 1, as 0.9 (0 would call every row a leak)"
            )));
        }
        let options = rampart_dataset::poison::Options {
            label: Some(self.label.clone()),
            leak_from: Some(train.to_path_buf()),
            near: self.near,
            reference: None,
            max_label_shift: 1.0,
            groups: Vec::new(),
            min_share: 0.0,
            outliers: None,
            label_issues: None,
        };
        let report = rampart_dataset::poison::check(&self.data, &options, &self.reading, watch)?;
        let count = |k: FindingKind| -> u64 {
            report
                .findings
                .iter()
                .filter(|f| f.kind == k)
                .map(|f| f.count)
                .sum()
        };
        let mut lines: Vec<u64> = report
            .findings
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::Leak | FindingKind::NearLeak))
            .flat_map(|f| f.rows.iter().copied())
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines.truncate(20);
        Ok(Overlap {
            train: train.to_path_buf(),
            train_sha256: rampart_sign::artifact_digest(train)?,
            leaked: count(FindingKind::Leak),
            near: count(FindingKind::NearLeak),
            lines,
        })
    }

    /// The outcome of a finished run.
    pub fn outcome(&self, run: EvalRun, started: Started) -> Outcome {
        let mut findings = rampart_eval::judge::findings(&run.evaluation, &run.verdict);
        if let Some(o) = run.overlap.as_ref().filter(|o| o.rows() > 0) {
            findings.push(
                rampart_core::Finding::new(
                    "EVAL-OVERLAP",
                    rampart_core::Severity::High,
                    rampart_core::Location::file(self.data.display().to_string()),
                    format!(
                        "{} evaluation rows are training rows of {} ({} equal, {} near; lines {}): the model was measured on data it learnt",
                        o.rows(),
                        o.train.display(),
                        o.leaked,
                        o.near,
                        o.lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                    ),
                )
                .with("train_sha256", o.train_sha256.clone()),
            );
        }
        let failed = run.verdict.judged.iter().filter(|j| !j.passed).count();
        let summary = format!(
            "{} rows, {} thresholds, {failed} failed{}{}",
            run.evaluation.rows,
            run.verdict.judged.len(),
            match run.verdict.four_fifths {
                Some(true) => "; four-fifths rule met",
                Some(false) => "; four-fifths rule failed",
                None => "",
            },
            match &run.overlap {
                Some(o) if o.rows() > 0 => format!("; {} rows are training rows", o.rows()),
                Some(_) => "; no training rows".to_string(),
                None => String::new(),
            }
        );
        Outcome {
            gate: GATE,
            inputs: vec![self.model.clone(), self.data.clone()],
            passed: run.verdict.passed,
            summary,
            report: Report::Eval(Box::new(run)),
            findings,
            warnings: Vec::new(),
            started,
        }
    }
}

impl Gate for Eval {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        (GATE, vec![self.model.clone(), self.data.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        if self.thresholds().is_empty() && !self.four_fifths {
            return Err(Error::Config(
                "an eval gate without thresholds judges nothing: set --min/--max (min/max in rampart.toml) or --four-fifths".into(),
            ));
        }
        let run = self.evaluate(ctx.watch)?;
        Ok(self.outcome(run, started))
    }
}

impl EvalRun {
    /// The attestation's fields: digests, every measure by name (what
    /// admission judges again), the thresholds and their results.
    pub fn details(&self) -> serde_json::Value {
        let e = &self.evaluation;
        let mut measures = serde_json::Map::new();
        for m in &e.metrics {
            if let Some(v) = m.value {
                measures.insert(m.metric.name().into(), v.into());
            }
        }
        if let Some(f) = &e.fairness {
            for (a, v) in &f.aggregates {
                if let Some(v) = v {
                    measures.insert(a.name().into(), (*v).into());
                }
            }
        }
        for r in &e.robustness {
            if let Some(v) = r.success_rate {
                measures.insert(r.attack.measure().into(), v.into());
            }
        }
        let attacks: Vec<serde_json::Value> = e
            .robustness
            .iter()
            .map(|r| {
                serde_json::json!({
                    "attack": r.attack,
                    "target": r.target,
                    "queries_per_input": r.queries_per_input,
                    "epsilon": r.epsilon,
                    "immutable": r.immutable,
                    "bounds": r.bounds,
                    "seed": r.seed,
                    "attacked": r.attacked,
                    "succeeded": r.succeeded,
                    "median_l2": r.l2.median,
                    "median_linf": r.linf.median,
                })
            })
            .collect();
        serde_json::json!({
            "attacks": attacks,
            "model_sha256": e.model.sha256,
            "data_sha256": e.data.sha256,
            "rows": e.rows,
            "task": e.task,
            "features": e.features,
            "sensitive_features": e.fairness.as_ref().map(|f| &f.sensitive_features),
            "privileged": e.fairness.as_ref().and_then(|f| f.privileged.as_ref()),
            "positive": e.fairness.as_ref().map(|f| &f.positive),
            "min_group": e.fairness.as_ref().map(|f| f.min_count),
            "groups": e.fairness.as_ref().map(|f| f.groups.len()),
            "four_fifths": e.fairness.as_ref().map(|f| f.four_fifths.passed),
            "skipped": e.skipped,
            "measures": measures,
            "thresholds": self.verdict.judged,
            "bootstrap": e.bootstrap,
            "train_sha256": self.overlap.as_ref().map(|o| &o.train_sha256),
            "training_rows_evaluated": self.overlap.as_ref().map(Overlap::rows),
        })
    }

    /// What people read: the metrics with their intervals, the verdict,
    /// the groups.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let e = &self.evaluation;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {}: {} rows, {}",
            e.model.path.display(),
            e.data.path.display(),
            e.rows,
            match e.task {
                rampart_eval::Task::Regression => "regression".to_string(),
                _ => format!("{} classes ({})", e.classes.len(), e.classes.join(", ")),
            }
        );
        if e.skipped > 0 {
            let _ = writeln!(
                s,
                "{} records could not be read and were left out (--bad-input skip): the measures are of the rest",
                e.skipped
            );
        }
        let pct = e.bootstrap.confidence * 100.0;
        let _ = writeln!(s, "\n{:<28} {:>9}   {pct:.0}% interval", "metric", "value");
        for m in &e.metrics {
            let v = m.value.map_or("-".into(), |v| format!("{v:.4}"));
            let ci = match (m.low, m.high) {
                (Some(l), Some(h)) => format!("[{l:.4}, {h:.4}]"),
                _ => String::new(),
            };
            let _ = writeln!(s, "{:<28} {v:>9}   {ci}", m.metric.name());
        }
        if let Some(f) = &e.fairness {
            let _ = writeln!(
                s,
                "\nfairness by {} ({} groups; positive decision: the second class unless --positive)",
                f.sensitive_features.join(" x "),
                f.groups.len()
            );
            let _ = writeln!(
                s,
                "{:<40} {:>7} {:>9} {:>7} {:>7} {:>9}",
                "group", "rows", "selected", "TPR", "FPR", "impact"
            );
            for g in &f.groups {
                let impact = g.impact_ratio.map_or("-".into(), |r| format!("{r:.3}"));
                let _ = writeln!(
                    s,
                    "{:<40} {:>7} {:>9.4} {:>7.4} {:>7.4} {:>9}{}",
                    f.values_of(g),
                    g.count,
                    g.selection_rate,
                    g.true_positive_rate,
                    g.false_positive_rate,
                    impact,
                    if g.small { "  (small)" } else { "" }
                );
            }
            for (a, v) in &f.aggregates {
                let v = v.map_or("undefined".into(), |v| format!("{v:.4}"));
                let _ = writeln!(s, "{:<34} {v}", a.name());
            }
        }
        if !e.robustness.is_empty() {
            let _ = writeln!(
                s,
                "\nrobustness ({} queries per row; distances in the features' units, over successes)",
                e.robustness.first().map_or(0, |r| r.queries_per_input)
            );
            let _ = writeln!(
                s,
                "{:<12} {:>8} {:>9} {:>8} {:>11} {:>11} {:>8} {:>8}",
                "attack",
                "attacked",
                "succeeded",
                "rate",
                "median L2",
                "median Linf",
                "changed",
                "queries"
            );
            let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
            for r in &e.robustness {
                let _ = writeln!(
                    s,
                    "{:<12} {:>8} {:>9} {:>8} {:>11} {:>11} {:>8} {:>8}",
                    r.attack.name(),
                    r.attacked,
                    r.succeeded,
                    f(r.success_rate),
                    f(r.l2.median),
                    f(r.linf.median),
                    r.changed.median.map_or("-".into(), |v| format!("{v:.0}")),
                    r.queries.median.map_or("-".into(), |v| format!("{v:.0}")),
                );
            }
        }
        if !self.verdict.judged.is_empty()
            || self.verdict.four_fifths.is_some()
            || self.overlap.is_some()
        {
            let _ = writeln!(s);
            for j in &self.verdict.judged {
                let t = j.threshold;
                let sign = match t.bound {
                    Bound::Min => ">=",
                    Bound::Max => "<=",
                };
                let o = j.observed.map_or("undefined".into(), |v| format!("{v:.4}"));
                let _ = writeln!(
                    s,
                    "{} {} {sign} {}: {o}",
                    if j.passed { "PASS" } else { "FAIL" },
                    t.measure.name(),
                    t.value
                );
            }
            if let Some(o) = &self.overlap {
                let _ = writeln!(
                    s,
                    "{} no evaluation row in the training data {}{}",
                    if o.rows() == 0 { "PASS" } else { "FAIL" },
                    o.train.display(),
                    if o.rows() == 0 {
                        String::new()
                    } else {
                        format!(": {} are ({} equal, {} near)", o.rows(), o.leaked, o.near)
                    }
                );
            }
            if let Some(ff) = self.verdict.four_fifths {
                let _ = writeln!(s, "{} four-fifths rule", if ff { "PASS" } else { "FAIL" });
            }
            let _ = writeln!(
                s,
                "{}",
                if self.verdict.passed {
                    "PASSED"
                } else {
                    "FAILED"
                }
            );
        }
        s
    }
}

/// `eval-compare`: a new version against the old on the same rows.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Compare {
    /// The new version (ONNX).
    pub new: PathBuf,
    /// The version it would replace (ONNX).
    pub old: PathBuf,
    /// The evaluation dataset.
    #[cfg_attr(feature = "clap", arg(long))]
    pub data: PathBuf,
    /// The column of the truth.
    #[cfg_attr(feature = "clap", arg(long))]
    pub label: String,
    /// Feature columns in the models' input order [default: every column
    /// but the label].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub features: Vec<String>,
    /// The label values in the order of the models' classes.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub classes: Vec<String>,
    /// Metrics judged [default: accuracy, balanced_accuracy, f1_macro,
    /// roc_auc, average_precision, log_loss; every metric of a regressor].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', value_parser = metric))]
    pub metrics: Vec<rampart_eval::Metric>,
    /// Columns to slice by: each value is a slice (`--slice sex,race`).
    #[cfg_attr(feature = "clap", arg(long = "slice", value_delimiter = ','))]
    pub slices: Vec<String>,
    /// A numeric column cut into quantile bins, each a slice
    /// (`--bins age=4`).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', value_parser = bins))]
    pub bins: Vec<(String, usize)>,
    /// A regression is a loss larger than this, with confidence (0: any
    /// loss the interval is sure of).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub margin: f64,
    /// Slices with fewer rows are reported, not judged.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 100))]
    pub min_slice: u64,
    /// The evaluation data's lock (`sha256:HEX`).
    #[cfg_attr(feature = "clap", arg(long, value_name = "sha256:HEX"))]
    pub eval_data: Option<String>,
    /// Paired bootstrap resamples.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1000))]
    pub bootstrap: u32,
    /// The intervals' coverage: a regression is certain at this level.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.95))]
    pub confidence: f64,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// The models' scores are logits: apply softmax.
    #[cfg_attr(feature = "clap", arg(long))]
    pub logits: bool,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: Reading,
}

#[cfg(feature = "clap")]
fn metric(s: &str) -> Result<rampart_eval::Metric, String> {
    rampart_eval::Metric::parse(s).ok_or_else(|| {
        let names: Vec<&str> = rampart_eval::Metric::all().map(|m| m.name()).collect();
        format!("no metric {s:?}; the metrics are {}", names.join(", "))
    })
}

#[cfg(feature = "clap")]
fn bins(s: &str) -> Result<(String, usize), String> {
    let (c, k) = pair(s)?;
    let k: usize = k
        .trim()
        .parse()
        .ok()
        .filter(|k| (2..=100).contains(k))
        .ok_or_else(|| format!("{s:?}: COLUMN=BINS with 2 to 100 bins, as age=4"))?;
    Ok((c, k))
}

impl Compare {
    fn options(&self) -> rampart_eval::CompareOptions {
        let mut slices = self.slices.clone();
        for (c, _) in &self.bins {
            if !slices.contains(c) {
                slices.push(c.clone());
            }
        }
        rampart_eval::CompareOptions {
            new: self.new.clone(),
            old: self.old.clone(),
            eval: rampart_eval::Options {
                data: self.data.clone(),
                mapping: rampart_eval::data::Mapping {
                    features: self.features.clone(),
                    label: Some(self.label.clone()),
                    groups: Vec::new(),
                    slices,
                },
                classes: self.classes.clone(),
                logits: self.logits,
                bootstrap: rampart_eval::Bootstrap {
                    resamples: self.bootstrap,
                    confidence: self.confidence,
                    seed: self.seed,
                },
                data_sha256: self.eval_data.clone(),
                reading: self.reading.options(None),
                ..rampart_eval::Options::default()
            },
            metrics: self.metrics.clone(),
            bins: self.bins.clone(),
            margin: self.margin,
            min_slice: self.min_slice,
        }
    }
}

impl Gate for Compare {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        (
            "eval-compare",
            vec![self.new.clone(), self.old.clone(), self.data.clone()],
        )
    }

    fn run(&self, _ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let coverage = self.confidence > 0.0 && self.confidence < 1.0;
        if !coverage || !(MIN_RESAMPLES..=MAX_RESAMPLES).contains(&self.bootstrap) {
            return Err(Error::Config(format!(
                "a comparison needs 100 to {MAX_RESAMPLES} --bootstrap resamples (1000 by default) and a --confidence between 0 and 1"
            )));
        }
        let c = rampart_eval::compare(&self.options())?;
        if c.overall.is_empty() {
            return Err(Error::Config(format!(
                "none of the metrics asked for apply to a {:?} model: nothing would be judged",
                c.task
            )));
        }
        let summary = if c.passed() {
            format!("{} rows: no regression", c.rows)
        } else {
            format!("{} rows: regressed: {}", c.rows, c.regressed.join("; "))
        };
        let findings = c
            .regressed
            .iter()
            .map(|r| {
                rampart_core::Finding::new(
                    "EVAL-REGRESSION",
                    rampart_core::Severity::High,
                    rampart_core::Location::file(self.new.display().to_string()),
                    format!("worse than {}: {r}", self.old.display()),
                )
            })
            .collect();
        Ok(Outcome {
            gate: "eval-compare",
            inputs: vec![self.new.clone(), self.old.clone(), self.data.clone()],
            passed: c.passed(),
            summary,
            report: Report::Compare(Box::new(c)),
            findings,
            warnings: Vec::new(),
            started,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    fn gate() -> Eval {
        let features = [
            "age",
            "education_num",
            "capital_gain",
            "capital_loss",
            "hours_per_week",
        ];
        Eval {
            model: root().join("examples/eval/adult-gb.onnx"),
            data: root().join("datasets/adult-test.csv.gz"),
            label: "income".into(),
            features: features.iter().map(|s| s.to_string()).collect(),
            classes: vec!["<=50K".into(), ">50K".into()],
            sensitive: Vec::new(),
            privileged: Vec::new(),
            positive: None,
            min_group: 30,
            min: vec![Threshold::parse(Bound::Min, "accuracy=0.8").unwrap()],
            max: Vec::new(),
            four_fifths: false,
            eval_data: None,
            train: None,
            near: None,
            bootstrap: 0,
            confidence: 0.95,
            seed: 0,
            logits: false,
            attacking: Attacking::default(),
            reading: Reading::default(),
        }
    }

    #[test]
    fn skipped_records_are_said_in_the_text() {
        let mut run = gate().evaluate(&rampart_dataset::Quiet).unwrap();
        assert!(!run.text().contains("could not be read"));
        run.evaluation.skipped = 3;
        assert!(run
            .text()
            .contains("3 records could not be read and were left out"));
    }

    #[test]
    fn training_rows_in_the_evaluation_set_fail_the_gate() {
        let watch = rampart_dataset::Quiet;
        let passing = gate().evaluate(&watch).unwrap();
        assert!(passing.verdict.passed);
        // Adult's own test set shares 26 rows with its training set.
        let g = Eval {
            train: Some(root().join("datasets/adult.csv.gz")),
            ..gate()
        };
        let run = g.evaluate(&watch).unwrap();
        let o = run.overlap.as_ref().unwrap();
        assert_eq!((o.leaked, o.near), (26, 0));
        assert!(
            !run.verdict.passed,
            "the metrics passed, the overlap fails it"
        );
        let outcome = g.outcome(run, Started::now());
        assert!(outcome.findings.iter().any(|f| f.rule == "EVAL-OVERLAP"));
        assert_eq!(outcome.report.details()["training_rows_evaluated"], 26);
    }

    #[test]
    fn an_attack_threshold_runs_the_attack_and_attests_how() {
        let g = Eval {
            max: vec![Threshold::parse(Bound::Max, "tabular_success_rate=0.5").unwrap()],
            attacking: Attacking {
                attack_rows: 50,
                queries: 200,
                immutable: vec!["age".into()],
                ..Attacking::default()
            },
            ..gate()
        };
        let run = g.evaluate(&rampart_dataset::Quiet).unwrap();
        assert_eq!(run.evaluation.robustness.len(), 1, "the threshold ran it");
        assert!(!run.verdict.passed);
        let html = crate::eval_html::section(&run);
        for part in [
            "<h4>Calibration</h4>",
            "<polyline",
            "<h4>Attack tabular: 50 of 50",
            "successful perturbations by L2 size",
            "tabular_success_rate &le; 0.5",
        ] {
            assert!(html.contains(part), "{part} missing from the section");
        }
        // No external assets: the only address is the SVG namespace.
        assert_eq!(
            html.matches("http").count(),
            html.matches("http://www.w3.org/2000/svg").count()
        );
        assert!(!html.contains("src=") && !html.contains("href="));
        let outcome = g.outcome(run, Started::now());
        assert!(outcome.findings.iter().any(|f| f.rule == "EVAL-ROBUSTNESS"));
        let d = outcome.report.details();
        assert!(d["measures"]["tabular_success_rate"].as_f64().unwrap() > 0.5);
        let a = &d["attacks"][0];
        assert_eq!(a["attack"], "tabular");
        assert_eq!(a["queries_per_input"], 200);
        assert_eq!(a["attacked"], 50);
        assert_eq!(a["immutable"], serde_json::json!(["age"]));
        // Attack settings with no attack to run are refused, not ignored.
        let idle = Eval {
            attacking: Attacking {
                target: Some(">50K".into()),
                ..Attacking::default()
            },
            ..gate()
        };
        let err = idle.evaluate(&rampart_dataset::Quiet).unwrap_err();
        assert!(err.to_string().contains("no attack runs"), "{err}");
    }
}
