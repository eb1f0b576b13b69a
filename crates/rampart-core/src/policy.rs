//! `rampart.toml`: what fails a gate, per-rule overrides and suppressions,
//! and scanner allow/deny additions.

use crate::{Finding, Report, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const POLICY_FILE_NAME: &str = "rampart.toml";

/// Largest policy file we read: a policy is hand-written configuration.
const MAX_POLICY_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy {path} is {size} bytes; the limit is {MAX_POLICY_BYTES}")]
    TooLarge { path: PathBuf, size: u64 },
    /// The message from the TOML parser names the line and column.
    #[error("invalid policy {path}:\n{message}")]
    Invalid { path: PathBuf, message: String },
}

/// The policy. Every field has a safe default, so an absent file means:
/// fail on medium, no overrides, the scanner's built-in lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Findings at or above this severity fail the gate (exit code 1).
    #[serde(default = "default_fail_on")]
    pub fail_on: Severity,
    /// Per-rule settings, keyed by rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, RulePolicy>,
    /// Findings to drop, each with the reason it is accepted.
    #[serde(default)]
    pub suppress: Vec<Suppression>,
    #[serde(default)]
    pub scan: ScanPolicy,
    /// The pipeline: stages run in order by `rampart run`, each a list of
    /// gates.
    #[serde(default, rename = "stage")]
    pub stages: Vec<Stage>,
    /// What `rampart check` requires of an artifact.
    #[serde(default)]
    pub admission: Admission,
    /// What moving a model registry alias requires.
    #[serde(default)]
    pub registry: RegistryPolicy,
    /// `[serve]`: the gateway's settings, read and checked by
    /// `rampart-gateway` (which owns their meaning).
    #[serde(default)]
    pub serve: toml::Table,
    /// Where the policy was read from, if a file.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

fn default_fail_on() -> Severity {
    Severity::Medium
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_on: default_fail_on(),
            rules: BTreeMap::new(),
            suppress: Vec::new(),
            scan: ScanPolicy::default(),
            stages: Vec::new(),
            admission: Admission::default(),
            registry: RegistryPolicy::default(),
            serve: toml::Table::new(),
            source: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePolicy {
    /// Replace the rule's severity.
    pub severity: Option<Severity>,
    /// `false` drops every finding of the rule.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Drops findings of one rule, optionally only under a path prefix and only
/// those whose evidence mentions `contains`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub rule: String,
    /// Path prefix (as reported in the finding's location).
    pub path: Option<String>,
    /// Substring that the message or an evidence value must contain.
    pub contains: Option<String>,
    /// Why this is accepted; required so that reviews can see it.
    pub reason: String,
}

/// `[admission]`: the gates whose passing evidence an artifact needs, and
/// the thresholds that evidence is judged by. Admission never trusts the
/// pass flag a run recorded alone: a scan run with `--fail-on critical`
/// passed by its own lights, but its counts are judged here again.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    #[serde(default)]
    pub require: Vec<GateKind>,
    /// scan: findings at or above this fail admission [default: the
    /// policy's `fail_on`].
    pub fail_on: Option<Severity>,
    /// pii: evidence made with a higher (laxer) score threshold than this
    /// is refused [default 0.5].
    pub threshold: Option<f32>,
    /// risk: the smallest k (and l, when a sensitive column was measured)
    /// admitted [defaults 5 and 2].
    pub min_k: Option<u64>,
    pub min_l: Option<u64>,
    /// eval: the measures the newest evaluation must meet, and the
    /// evaluation set it must have been made on (`[admission.eval]`).
    pub eval: Option<EvalBar>,
}

/// `[admission.eval]` (or `[registry.alias.NAME.eval]`): bounds on the
/// measures an eval attestation records (`accuracy`, `roc_auc`,
/// `demographic_parity_difference`...), judged again by admission, and
/// the SHA-256 of the evaluation data it must be about.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvalBar {
    #[serde(default)]
    pub min: BTreeMap<String, f64>,
    #[serde(default)]
    pub max: BTreeMap<String, f64>,
    /// `sha256:HEX` of the evaluation set.
    pub eval_data: Option<String>,
    /// The four-fifths rule must have been met.
    #[serde(default)]
    pub four_fifths: bool,
    /// The sensitive features fairness must have been measured by (all
    /// of them, together): evidence by fewer is refused.
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// The privileged group disparate impact must have been measured
    /// against; evidence against another (or one when none is set
    /// here) is refused.
    pub privileged: Option<BTreeMap<String, String>>,
    /// The favourable decision fairness must have been measured for.
    pub positive: Option<String>,
    /// The largest --min-group evidence may have used [default 30]:
    /// a larger one leaves more groups unjudged.
    pub min_group: Option<u64>,
    /// With a bound on an attack's success rate: the fewest queries per
    /// input the attack may have had [default 1000]; fewer make a weaker
    /// attack and a lower rate.
    pub queries: Option<u64>,
    /// The fewest inputs it may have attacked [default 100].
    pub attacked: Option<u64>,
    /// The smallest epsilon SimBA and Square may have used [default 0.1].
    pub epsilon: Option<f64>,
    /// The only features an attack may have held immutable: evidence
    /// that protected more features from the attack is refused.
    #[serde(default)]
    pub immutable: Vec<String>,
    /// The class a targeted attack must have reached; evidence of a
    /// targeted attack (harder to succeed) is refused without it.
    pub target: Option<String>,
}

/// The quality metrics an evaluation threshold may bound.
pub const QUALITY_MEASURES: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier_score",
    "expected_calibration_error",
    "mean_absolute_error",
    "root_mean_squared_error",
    "r2",
];

/// The fairness aggregates an evaluation threshold may bound: evidence
/// bounded by them must have measured fairness as admission says.
pub const FAIRNESS_MEASURES: &[&str] = &[
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_difference_mean",
    "equalized_odds_ratio",
    "equalized_odds_ratio_mean",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "disparate_impact",
];

/// The attacks' success rates an evaluation threshold may bound.
pub const ATTACK_MEASURES: &[&str] = &[
    "hopskipjump_success_rate",
    "simba_success_rate",
    "square_success_rate",
    "boundary_success_rate",
    "tabular_success_rate",
];

/// Every name an evaluation threshold may bound (`min`, `max`), so that
/// a misspelt measure is refused when the policy is read, not when a
/// pipeline reaches the gate. rampart-eval parses the same names and a
/// test there holds the two lists equal.
pub fn eval_measures() -> impl Iterator<Item = &'static str> {
    QUALITY_MEASURES
        .iter()
        .chain(FAIRNESS_MEASURES)
        .chain(ATTACK_MEASURES)
        .copied()
}

/// The first bound in `min` or `max` on a name that is no measure.
fn unknown_measure(
    table: &str,
    min: &BTreeMap<String, f64>,
    max: &BTreeMap<String, f64>,
) -> Option<String> {
    let (side, name) = min
        .keys()
        .map(|k| ("min", k))
        .chain(max.keys().map(|k| ("max", k)))
        .find(|(_, k)| !eval_measures().any(|m| m == k.as_str()))?;
    Some(format!(
        "[{table}] {side}: no measure {name:?}; the measures are {}",
        eval_measures().collect::<Vec<_>>().join(", ")
    ))
}

impl EvalBar {
    /// Whether the bar judges anything: an eval requirement without one
    /// would admit any evaluation, the laxest included.
    pub fn judges(&self) -> bool {
        !self.min.is_empty() || !self.max.is_empty() || self.four_fifths
    }

    /// Bounds that could never be met or judged: NaN or infinite.
    fn problem(&self, table: &str) -> Option<String> {
        if let Some(e) = self.epsilon.filter(|e| !(*e > 0.0 && *e <= 1.0)) {
            return Some(format!(
                "[{table}] epsilon = {e}: a fraction of the input domain's width (the widest feature's range, or the attack's bounds), above 0 and at most 1"
            ));
        }
        if self.judges() && self.eval_data.is_none() {
            return Some(format!(
                "[{table}] judges evaluations but sets no eval_data: evidence measured on any data (a few easy rows) would be admitted; lock the evaluation set with eval_data = \"sha256:...\" (sha256sum prints the digest)"
            ));
        }
        if self.queries == Some(0) {
            return Some(format!(
                "[{table}] queries = 0 would accept an attack that asked the model nothing: set the fewest queries per input evidence may have used (the default is 1000)"
            ));
        }
        if self.attacked == Some(0) {
            return Some(format!(
                "[{table}] attacked = 0 would accept an attack on no input: set the fewest inputs evidence may have attacked (the default is 100)"
            ));
        }
        unknown_measure(table, &self.min, &self.max).or_else(|| {
            self.min
                .iter()
                .chain(&self.max)
                .find(|(_, v)| !v.is_finite())
                .map(|(k, v)| format!("[{table}] {k} = {v}: a bound is a finite number"))
        })
    }
}

/// `[registry]`: per alias, what a model version needs before the alias
/// may point at it. An alias with no rule cannot be promoted to: fail
/// closed (an empty `[registry.alias.dev]` lets anything in).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryPolicy {
    #[serde(default)]
    pub alias: BTreeMap<String, AliasRule>,
}

/// `[registry.alias.NAME]`: the gates whose passing evidence the
/// version's exact digest needs (judged as `[admission]` judges it, with
/// this rule's thresholds where given), and `approvals` distinct
/// approvals by keys among `approvers`, none by the version's author.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasRule {
    #[serde(default)]
    pub require: Vec<GateKind>,
    pub fail_on: Option<Severity>,
    pub threshold: Option<f32>,
    pub min_k: Option<u64>,
    pub min_l: Option<u64>,
    pub eval: Option<EvalBar>,
    /// How many distinct approvers must approve [default 0].
    #[serde(default)]
    pub approvals: usize,
    /// Approvers' public keys (PEM files, relative to the policy file).
    #[serde(default)]
    pub approvers: Vec<PathBuf>,
}

impl AliasRule {
    fn problem(&self, alias: &str) -> Option<String> {
        if self.require.contains(&GateKind::Eval)
            && !self.eval.as_ref().is_some_and(EvalBar::judges)
        {
            return Some(format!(
                "[registry.alias.{alias}] requires eval but sets no [registry.alias.{alias}.eval] min, max or four_fifths: any evaluation would do"
            ));
        }
        (self.approvals > self.approvers.len()).then(|| {
            format!(
                "[registry.alias.{alias}] needs {} approvals but lists {} approvers",
                self.approvals,
                self.approvers.len()
            )
        })
    }
}

/// A pipeline stage (`[[stage]]`): a name and its gates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    #[serde(default, rename = "gate")]
    pub gates: Vec<GateSpec>,
}

impl Stage {
    /// Why the stage would pass without checking anything: no gate, or a
    /// gate with no input (a gate over nothing finds nothing, and passes).
    fn problem(&self) -> Option<String> {
        if self.gates.is_empty() {
            return Some(format!(
                "stage {:?} has no [[stage.gate]]: a stage that checks nothing would pass; add a gate or remove the stage",
                self.name
            ));
        }
        self.gates
            .iter()
            .find_map(GateSpec::problem)
            .map(|p| format!("stage {:?}: {p}", self.name))
    }
}

/// The gates: what a stage can run and admission can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateKind {
    /// `rampart sign` (recorded when a model is signed; not a stage gate).
    Sign,
    /// `rampart scan` on `inputs`.
    Scan,
    /// `rampart verify` of `inputs` (one path) with `key` or `ca`.
    Verify,
    /// `rampart data pii scan` of `inputs`: passes when no personal data
    /// scores `threshold` or more (a gate before training on masked data).
    Pii,
    /// `rampart data risk` of `inputs` (one dataset) over `quasi`: passes
    /// when k >= `min_k` (and l >= `min_l` for a `sensitive` column).
    Risk,
    /// `rampart eval` of a model (`inputs`) on `data`: passes when every
    /// `min` and `max` bound on its measures is met.
    Eval,
}

/// One gate of a stage (`[[stage.gate]]`): which gate (`gate = "scan"`)
/// and its own settings, no other gate's: a `threshold` on a scan gate is
/// an error naming the fields a scan gate takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "gate", rename_all = "lowercase")]
pub enum GateSpec {
    Scan(ScanGate),
    Verify(VerifyGate),
    Pii(PiiGate),
    Risk(RiskGate),
    Eval(Box<EvalGate>),
}

/// `gate = "eval"`: the model in `inputs` (one ONNX file) run on `data`
/// and judged by `min` and `max` bounds on its measures (quality metrics,
/// fairness aggregates), as `rampart eval` does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalGate {
    pub inputs: Vec<PathBuf>,
    /// The evaluation dataset.
    pub data: PathBuf,
    /// Its SHA-256 (`sha256:HEX`): any other file is refused.
    pub eval_data: Option<String>,
    /// The training data: evaluation rows also in it fail the gate.
    pub train: Option<PathBuf>,
    /// With `train`: near leaks at this Jaccard similarity fail it too.
    pub near: Option<f64>,
    pub label: String,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// The privileged group, a value per sensitive feature.
    #[serde(default)]
    pub privileged: BTreeMap<String, String>,
    pub positive: Option<String>,
    pub min_group: Option<u64>,
    #[serde(default)]
    pub min: BTreeMap<String, f64>,
    #[serde(default)]
    pub max: BTreeMap<String, f64>,
    #[serde(default)]
    pub four_fifths: bool,
    pub bootstrap: Option<u32>,
    pub seed: Option<u64>,
    #[serde(default)]
    pub logits: bool,
    pub bad_input: Option<BadInput>,
    pub encoding: Option<String>,
    /// Evasion attacks (hopskipjump, simba, square, boundary, tabular);
    /// a bound on NAME_success_rate runs its attack too.
    #[serde(default)]
    pub attacks: Vec<String>,
    pub attack_rows: Option<usize>,
    pub queries: Option<u64>,
    pub epsilon: Option<f64>,
    pub target: Option<String>,
    /// One input domain for every feature, as [0, 1] for images.
    pub bounds: Option<[f64; 2]>,
    #[serde(default)]
    pub immutable: Vec<String>,
    #[serde(default)]
    pub categorical: Vec<String>,
}

/// `gate = "scan"`: the model scanner on `inputs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanGate {
    /// Files or folders, relative to the policy file.
    pub inputs: Vec<PathBuf>,
    /// Overrides the policy's fail_on for this gate.
    pub fail_on: Option<Severity>,
}

/// `gate = "verify"`: one model file or folder against its signature,
/// with exactly one of `key` (the signer's public key) and `ca` (a
/// trusted root certificate).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyGate {
    pub inputs: Vec<PathBuf>,
    pub key: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    /// The signature file [default: INPUT/model.sig or INPUT.sig].
    pub signature: Option<PathBuf>,
}

/// `gate = "pii"`: passes when no personal data scores `threshold` or
/// more in `inputs` (a gate before training on masked data).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiGate {
    pub inputs: Vec<PathBuf>,
    /// Records that cannot be read [default: reject, failing the gate].
    pub bad_input: Option<BadInput>,
    /// The score threshold [default 0.5].
    pub threshold: Option<f32>,
    /// The text encoding of the inputs when it is not UTF-8 (`cp1252`,
    /// `latin1`, `utf-16le`...; any WHATWG label).
    pub encoding: Option<String>,
}

/// `gate = "risk"`: re-identification risk of one dataset over `quasi`;
/// passes when k >= `min_k` (and l >= `min_l` for a `sensitive` column).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskGate {
    pub inputs: Vec<PathBuf>,
    /// Records that cannot be read [default: reject, failing the gate].
    pub bad_input: Option<BadInput>,
    /// Quasi-identifier columns.
    pub quasi: Vec<String>,
    /// A sensitive column for l-diversity.
    pub sensitive: Option<String>,
    /// The smallest acceptable class [default 5].
    pub min_k: Option<u64>,
    /// The fewest distinct sensitive values per class [default 2].
    pub min_l: Option<u64>,
    pub encoding: Option<String>,
}

impl GateSpec {
    pub fn kind(&self) -> GateKind {
        match self {
            GateSpec::Scan(_) => GateKind::Scan,
            GateSpec::Verify(_) => GateKind::Verify,
            GateSpec::Pii(_) => GateKind::Pii,
            GateSpec::Risk(_) => GateKind::Risk,
            GateSpec::Eval(_) => GateKind::Eval,
        }
    }

    /// What the gate examines, relative to the policy file.
    pub fn inputs(&self) -> &[PathBuf] {
        match self {
            GateSpec::Scan(g) => &g.inputs,
            GateSpec::Verify(g) => &g.inputs,
            GateSpec::Pii(g) => &g.inputs,
            GateSpec::Risk(g) => &g.inputs,
            GateSpec::Eval(g) => &g.inputs,
        }
    }

    /// Why the gate cannot run as written, caught when the policy is
    /// read rather than halfway through a pipeline.
    fn problem(&self) -> Option<String> {
        let name = self.kind().name();
        if self.inputs().is_empty() {
            return Some(format!(
                "the {name} gate has `inputs = []`: a gate over nothing would pass; name the files or folders it checks"
            ));
        }
        match self {
            GateSpec::Verify(v) if v.inputs.len() != 1 => {
                Some("a verify gate takes exactly one input (the model folder or file)".into())
            }
            GateSpec::Verify(v) if v.key.is_some() == v.ca.is_some() => {
                Some("a verify gate needs exactly one of key or ca".into())
            }
            GateSpec::Risk(r) if r.inputs.len() != 1 => {
                Some("a risk gate takes exactly one input (the dataset)".into())
            }
            GateSpec::Pii(p) if p.threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) => {
                Some("a pii gate's threshold is a score between 0 and 1".into())
            }
            GateSpec::Risk(r) if r.min_k == Some(0) || r.min_l == Some(0) => {
                Some("a risk gate's min_k and min_l are at least 1 (0 would pass any data)".into())
            }
            GateSpec::Eval(e) if e.inputs.len() != 1 => {
                Some("an eval gate takes exactly one input (the ONNX model)".into())
            }
            GateSpec::Eval(e) if e.min.is_empty() && e.max.is_empty() && !e.four_fifths => Some(
                "an eval gate without min, max or four_fifths judges nothing; bound a measure, as min = { accuracy = 0.8 }".into(),
            ),
            GateSpec::Eval(e) if e.near.is_some_and(|n| !(n > 0.0 && n <= 1.0)) => Some(
                "an eval gate's near is a Jaccard similarity above 0 and at most 1 (0 would call every row a leak)".into(),
            ),
            GateSpec::Eval(e) if unknown_measure("eval gate", &e.min, &e.max).is_some() => {
                unknown_measure("eval gate", &e.min, &e.max)
            }
            GateSpec::Risk(r) if r.quasi.is_empty() => {
                Some("a risk gate needs quasi = [\"column\", ...]".into())
            }
            _ => None,
        }
    }
}

/// What to do with a record that cannot be read (`bad_input = "skip"` in
/// a policy file, `--bad-input skip` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum BadInput {
    /// Read on, counting and listing every such record, then fail
    /// naming them (DATA-UNREAD): a file is never taken as read when it
    /// was not.
    #[default]
    Reject,
    /// Leave it out, count it and report its line: only when asked.
    Skip,
    /// Stop at the first, with an error naming the line.
    Fail,
}

/// Scanner settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanPolicy {
    /// Extra globals that are safe to import, `module.name` or `module.*`
    /// (classes directly in that module).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Extra globals to treat as critical, `module.name` or `module`.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Limit overrides, e.g. `max_depth = 8`.
    #[serde(default)]
    pub limits: BTreeMap<String, u64>,
}

impl GateKind {
    pub const ALL: [GateKind; 6] = [
        GateKind::Sign,
        GateKind::Scan,
        GateKind::Verify,
        GateKind::Pii,
        GateKind::Risk,
        GateKind::Eval,
    ];

    /// The name `rampart.toml` and `rampart check --require` use.
    pub fn name(self) -> &'static str {
        match self {
            GateKind::Sign => "sign",
            GateKind::Scan => "scan",
            GateKind::Verify => "verify",
            GateKind::Pii => "pii",
            GateKind::Risk => "risk",
            GateKind::Eval => "eval",
        }
    }

    /// The gate name its attestations carry (`predicate.gate`).
    pub fn attested_as(self) -> &'static str {
        match self {
            GateKind::Pii => "pii-scan",
            GateKind::Risk => "reid-risk",
            other => other.name(),
        }
    }
}

impl FromStr for GateKind {
    type Err = String;

    /// The names of [`GateKind::name`], or the names attestations carry
    /// (`pii-scan`, `reid-risk`), which `rampart evidence` shows; an error
    /// lists them.
    fn from_str(s: &str) -> Result<Self, String> {
        GateKind::ALL
            .into_iter()
            .find(|g| g.name() == s || g.attested_as() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = GateKind::ALL.iter().map(|g| g.name()).collect();
                format!("unknown gate {s:?}; the gates are {}", names.join(", "))
            })
    }
}

impl Policy {
    /// Parses policy text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let mut p: Policy = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for s in &p.suppress {
            if s.reason.trim().is_empty() {
                return Err(PolicyError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "suppression of {} has an empty `reason`: say why it is accepted",
                        s.rule
                    ),
                });
            }
        }
        let alias_problem = p.registry.alias.iter().find_map(|(a, r)| r.problem(a));
        let admission_problem = (p.admission.require.contains(&GateKind::Eval)
            && !p.admission.eval.as_ref().is_some_and(EvalBar::judges))
        .then(|| {
            "[admission] requires eval but [admission.eval] sets no min, max or four_fifths: any evaluation would be admitted".to_string()
        });
        let bounds_problem = p
            .admission
            .eval
            .as_ref()
            .and_then(|b| b.problem("admission.eval"))
            .or_else(|| {
                p.registry.alias.iter().find_map(|(a, r)| {
                    r.eval
                        .as_ref()
                        .and_then(|b| b.problem(&format!("registry.alias.{a}.eval")))
                })
            });
        let alias_problem = alias_problem.or(admission_problem).or(bounds_problem);
        if let Some(message) = p.stages.iter().find_map(Stage::problem).or(alias_problem) {
            return Err(PolicyError::Invalid {
                path: path.to_path_buf(),
                message,
            });
        }
        p.source = Some(path.to_path_buf());
        Ok(p)
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let io = |source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                path: path.to_path_buf(),
                size,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Policy::parse(&text, path)
    }

    /// Finds `rampart.toml` in `start` or the nearest ancestor.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|d| d.join(POLICY_FILE_NAME))
            .find(|p| p.is_file())
    }

    /// Applies overrides and suppressions to a report, in place.
    pub fn apply(&self, report: &mut Report) {
        let mut kept = Vec::with_capacity(report.findings.len());
        for mut f in std::mem::take(&mut report.findings) {
            if let Some(rp) = self.rules.get(&f.rule) {
                if !rp.enabled {
                    *report.suppressed.entry(f.rule.clone()).or_default() += 1;
                    continue;
                }
                if let Some(s) = rp.severity {
                    f.severity = s;
                }
            }
            if self.suppress.iter().any(|s| s.matches(&f)) {
                *report.suppressed.entry(f.rule.clone()).or_default() += 1;
                continue;
            }
            kept.push(f);
        }
        report.findings = kept;
    }
}

impl Suppression {
    fn matches(&self, f: &Finding) -> bool {
        self.rule.eq_ignore_ascii_case(&f.rule)
            && self
                .path
                .as_deref()
                .is_none_or(|p| f.location.display_name().starts_with(p))
            && self
                .contains
                .as_deref()
                .is_none_or(|c| f.message.contains(c) || f.evidence.values().any(|v| v.contains(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Location;

    fn report() -> Report {
        let mut r = Report::new("scan");
        r.findings.push(
            Finding::new(
                "PICKLE-UNKNOWN-GLOBAL",
                Severity::Medium,
                Location::file("models/a.pkl"),
                "imports mypkg.Net",
            )
            .with("global", "mypkg.Net"),
        );
        r.findings.push(Finding::new(
            "ZIP-CRC-MISMATCH",
            Severity::Medium,
            Location::file("b.zip"),
            "crc",
        ));
        r
    }

    #[test]
    fn eval_gates_and_requirements_must_judge_something() {
        let gate = |extra: &str| {
            let text = format!(
                "[[stage]]\nname = \"e\"\n[[stage.gate]]\ngate = \"eval\"\ninputs = [\"m.onnx\"]\ndata = \"t.csv\"\nlabel = \"y\"\n{extra}"
            );
            Policy::parse(&text, Path::new("rampart.toml")).map(|_| ())
        };
        let e = gate("").unwrap_err().to_string();
        assert!(e.contains("judges nothing"), "{e}");
        gate("min = { accuracy = 0.8 }").unwrap();
        gate("four_fifths = true").unwrap();
        let e = Policy::parse(
            "[admission]\nrequire = [\"eval\"]\n",
            Path::new("rampart.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[admission.eval]"), "{e}");
        Policy::parse(
            "[admission]\nrequire = [\"eval\"]\n[admission.eval]\nmin = { accuracy = 0.8 }\neval_data = \"sha256:00\"\n",
            Path::new("rampart.toml"),
        )
        .unwrap();
        let e = Policy::parse(
            "[admission]\nrequire = [\"eval\"]\n[admission.eval]\nmin = { accuracy = 0.8 }\n",
            Path::new("rampart.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("sets no eval_data"), "{e}");
        let e = Policy::parse(
            "[registry.alias.prod]\nrequire = [\"eval\"]\n",
            Path::new("rampart.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[registry.alias.prod.eval]"), "{e}");
    }

    #[test]
    fn a_stage_that_checks_nothing_is_refused() {
        let empty = Policy::parse("[[stage]]\nname = \"data\"\n", Path::new("rampart.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            empty.contains("stage \"data\" has no [[stage.gate]]"),
            "{empty}"
        );
        let no_inputs = Policy::parse(
            "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = []\n",
            Path::new("rampart.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            no_inputs.contains("the pii gate has `inputs = []`"),
            "{no_inputs}"
        );
        let fine =
            "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"a.csv\"]\n";
        assert_eq!(
            Policy::parse(fine, Path::new("rampart.toml"))
                .unwrap()
                .stages
                .len(),
            1
        );
    }

    #[test]
    fn a_gate_takes_its_own_settings_only() {
        let parse = |gate: &str| {
            Policy::parse(
                &format!("[[stage]]\nname = \"s\"\n[[stage.gate]]\n{gate}\n"),
                Path::new("rampart.toml"),
            )
        };
        let wrong = parse("gate = \"scan\"\ninputs = [\"m\"]\nthreshold = 0.2")
            .unwrap_err()
            .to_string();
        assert!(wrong.contains("unknown field `threshold`"), "{wrong}");
        let sign = parse("gate = \"sign\"\ninputs = [\"m\"]")
            .unwrap_err()
            .to_string();
        assert!(sign.contains("unknown variant `sign`"), "{sign}");
        let both = parse("gate = \"verify\"\ninputs = [\"m\"]\nkey = \"k\"\nca = \"c\"")
            .unwrap_err()
            .to_string();
        assert!(both.contains("exactly one of key or ca"), "{both}");
        let quasi = parse("gate = \"risk\"\ninputs = [\"d.csv\"]\nquasi = []")
            .unwrap_err()
            .to_string();
        assert!(quasi.contains("needs quasi"), "{quasi}");
        let lax = parse("gate = \"pii\"\ninputs = [\"d.csv\"]\nthreshold = 7.0")
            .unwrap_err()
            .to_string();
        assert!(lax.contains("between 0 and 1"), "{lax}");
        assert!(
            parse("gate = \"risk\"\ninputs = [\"d.csv\"]\nquasi = [\"a\"]\nmin_k = 0").is_err()
        );
        let p =
            parse("gate = \"risk\"\ninputs = [\"d.csv\"]\nquasi = [\"age\"]\nmin_k = 3").unwrap();
        match &p.stages[0].gates[0] {
            GateSpec::Risk(r) => assert_eq!((r.quasi.len(), r.min_k), (1, Some(3))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_fail_on_medium() {
        let p = Policy::parse("", Path::new("rampart.toml")).unwrap();
        assert_eq!(p.fail_on, Severity::Medium);
    }

    #[test]
    fn override_and_disable() {
        let p = Policy::parse(
            "fail_on = \"high\"\n[rules.PICKLE-UNKNOWN-GLOBAL]\nseverity = \"low\"\n[rules.ZIP-CRC-MISMATCH]\nenabled = false\n",
            Path::new("rampart.toml"),
        )
        .unwrap();
        let mut r = report();
        p.apply(&mut r);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].severity, Severity::Low);
        assert_eq!(r.suppressed.get("ZIP-CRC-MISMATCH"), Some(&1));
    }

    #[test]
    fn suppression_by_path_and_evidence() {
        let p = Policy::parse(
            "[[suppress]]\nrule = \"PICKLE-UNKNOWN-GLOBAL\"\npath = \"models/\"\ncontains = \"mypkg.Net\"\nreason = \"our own class\"\n",
            Path::new("rampart.toml"),
        )
        .unwrap();
        let mut r = report();
        p.apply(&mut r);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].rule, "ZIP-CRC-MISMATCH");
    }

    #[test]
    fn suppression_elsewhere_does_not_match() {
        let p = Policy::parse(
            "[[suppress]]\nrule = \"PICKLE-UNKNOWN-GLOBAL\"\npath = \"other/\"\nreason = \"x\"\n",
            Path::new("rampart.toml"),
        )
        .unwrap();
        let mut r = report();
        p.apply(&mut r);
        assert_eq!(r.findings.len(), 2);
    }

    #[test]
    fn eval_bars_that_would_judge_nothing_are_refused_on_reading() {
        let parse = |text: &str| {
            Policy::parse(text, Path::new("rampart.toml"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let base = "[admission]\nrequire = [\"eval\"]\n[admission.eval]\nmax = { hopskipjump_success_rate = 0.2 }\neval_data = \"sha256:00\"\n";
        assert_eq!(parse(base), "");
        let e = parse(&format!("{base}queries = 0\n"));
        assert!(e.contains("queries = 0 would accept"), "{e}");
        let e = parse(&format!("{base}attacked = 0\n"));
        assert!(e.contains("attacked = 0 would accept"), "{e}");
        let e =
            parse("[admission]\nrequire = [\"eval\"]\n[admission.eval]\nmin = { acuracy = 0.8 }\neval_data = \"sha256:00\"\n");
        assert!(e.contains("no measure \"acuracy\""), "{e}");
        let e = parse("[[stage]]\nname = \"eval\"\n[[stage.gate]]\ngate = \"eval\"\ninputs = [\"m.onnx\"]\ndata = \"d.csv\"\nlabel = \"y\"\nmax = { simba_sucess_rate = 0.1 }\n");
        assert!(e.contains("no measure \"simba_sucess_rate\""), "{e}");
    }

    #[test]
    fn malformed_file_names_line() {
        let err = Policy::parse(
            "fail_on = \"medium\"\n\nfail_onn = 3\n",
            Path::new("x/rampart.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("x/rampart.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn bad_severity_is_an_error() {
        let err = Policy::parse("fail_on = \"severe\"\n", Path::new("rampart.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn empty_reason_rejected() {
        assert!(Policy::parse(
            "[[suppress]]\nrule = \"X\"\nreason = \" \"\n",
            Path::new("rampart.toml")
        )
        .is_err());
    }

    #[test]
    fn discover_walks_up() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(POLICY_FILE_NAME), "").unwrap();
        let sub = d.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(
            Policy::discover(&sub),
            Some(d.path().join(POLICY_FILE_NAME))
        );
    }
}
