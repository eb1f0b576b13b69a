//! Thresholds on an evaluation, and the verdict: what a gate fails on.
//!
//! A threshold names a quality metric or a fairness aggregate and bounds
//! it from below (`--min accuracy=0.8`) or above (`--max
//! demographic_parity_difference=0.1`). A measure the evaluation could
//! not compute (ROC AUC on one class, fairness without sensitive
//! features) fails its threshold: what was not measured did not pass.

use crate::attack::Attack;
use crate::fairness::Aggregate;
use crate::metrics::Metric;
use crate::Evaluation;
use rampart_core::{Finding, Location, Severity};
use serde::{Deserialize, Serialize};

/// A quality metric, a fairness aggregate, or an attack's success rate;
/// written as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Metric(Metric),
    Fairness(Aggregate),
    /// The share of attacked inputs the attack turned.
    SuccessRate(Attack),
}

impl Measure {
    pub fn parse(name: &str) -> Option<Measure> {
        Metric::parse(name)
            .map(Measure::Metric)
            .or_else(|| Aggregate::parse(name).map(Measure::Fairness))
            .or_else(|| {
                crate::attack::ATTACKS
                    .into_iter()
                    .find(|a| a.measure() == name)
                    .map(Measure::SuccessRate)
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Measure::Metric(m) => m.name(),
            Measure::Fairness(a) => a.name(),
            Measure::SuccessRate(a) => a.measure(),
        }
    }

    /// Every name a threshold may use, for messages.
    pub fn names() -> Vec<&'static str> {
        Metric::all()
            .map(Metric::name)
            .chain(crate::fairness::AGGREGATES.iter().map(|a| a.name()))
            .chain(crate::attack::ATTACKS.iter().map(|a| a.measure()))
            .collect()
    }
}

impl Serialize for Measure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Measure, D::Error> {
        let name = String::deserialize(d)?;
        Measure::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("no measure {name:?}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The measure must be at least the value.
    Min,
    /// The measure must be at most the value.
    Max,
}

/// One bound on one measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub measure: Measure,
    pub bound: Bound,
    pub value: f64,
}

impl Threshold {
    /// Parses `name=value` (a `--min` or `--max` flag, a policy entry).
    pub fn parse(bound: Bound, text: &str) -> Result<Threshold, String> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected NAME=VALUE, as accuracy=0.8"))?;
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{text:?}: {value:?} is not a number"))?;
        Threshold::new(bound, name.trim(), value)
    }

    pub fn new(bound: Bound, name: &str, value: f64) -> Result<Threshold, String> {
        let measure = Measure::parse(name).ok_or_else(|| {
            format!(
                "no measure {name:?}; the measures are {}",
                Measure::names().join(", ")
            )
        })?;
        if let Measure::SuccessRate(_) = measure {
            if bound == Bound::Min {
                return Err(format!(
                    "{name}: an attack's success rate is bounded from above (--max {name}=0.2); a minimum would pass an evadable model"
                ));
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(format!(
                    "{name}={value}: a success rate is a share, between 0 and 1"
                ));
            }
        }
        Ok(Threshold {
            measure,
            bound,
            value,
        })
    }
}

/// A threshold against what was observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    #[serde(flatten)]
    pub threshold: Threshold,
    pub observed: Option<f64>,
    pub passed: bool,
}

/// The verdict on an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub judged: Vec<Judged>,
    /// Whether the four-fifths rule was required, and its result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub four_fifths: Option<bool>,
    pub passed: bool,
}

/// The observed value of a measure.
pub fn observed(e: &Evaluation, m: Measure) -> Option<f64> {
    match m {
        Measure::Metric(m) => e.metrics.iter().find(|x| x.metric == m)?.value,
        Measure::Fairness(a) => {
            e.fairness
                .as_ref()?
                .aggregates
                .iter()
                .find(|(k, _)| *k == a)?
                .1
        }
        Measure::SuccessRate(a) => e.robustness.iter().find(|r| r.attack == a)?.success_rate,
    }
}

/// Judges `e` by `thresholds` (and the four-fifths rule when asked).
pub fn judge(e: &Evaluation, thresholds: &[Threshold], four_fifths: bool) -> Verdict {
    let judged: Vec<Judged> = thresholds
        .iter()
        .map(|&t| {
            let observed = observed(e, t.measure);
            let passed = observed.is_some_and(|v| match t.bound {
                Bound::Min => v >= t.value,
                Bound::Max => v <= t.value,
            });
            Judged {
                threshold: t,
                observed,
                passed,
            }
        })
        .collect();
    let ff = four_fifths.then(|| e.fairness.as_ref().is_some_and(|f| f.four_fifths.passed));
    let passed = judged.iter().all(|j| j.passed) && ff != Some(false);
    Verdict {
        judged,
        four_fifths: ff,
        passed,
    }
}

/// The rules an evaluation gate reports.
pub static RULES: &[rampart_core::Rule] = &[
    rampart_core::Rule {
        id: "EVAL-QUALITY",
        name: "model-quality-below-threshold",
        default_severity: Severity::High,
        summary: "A quality metric of the model on the evaluation data is beyond its threshold, or could not be computed.",
        description: "The model was run on every row of the locked evaluation set and measured as scikit-learn measures (accuracy, F1, ROC AUC, log loss, calibration, errors of a regressor). A metric beyond the policy's bound means the model is not good enough to ship; one that could not be computed (ROC AUC with one class in the data) did not pass either.",
        fix: "Read the metric and its bootstrap interval in the report; retrain or fix the data. If the bound is wrong, change it in rampart.toml, where the change is reviewed.",
        references: &["docs/evaluation.md"],
    },
    rampart_core::Rule {
        id: "EVAL-FAIRNESS",
        name: "model-unfair-between-groups",
        default_severity: Severity::High,
        summary: "A fairness measure between groups of the sensitive features is beyond its threshold, or a group's selection rate is under four fifths of the highest.",
        description: "Selection rates, true and false positive rates per group (and per combination of several sensitive features), aggregated with Fairlearn's definitions: demographic parity, equalized odds, equal opportunity, AIF360's disparate impact, and the four-fifths rule of the US EEOC's Uniform Guidelines (29 CFR 1607.4(D)).",
        fix: "Read the per-group table: which group is selected less, or wrongly more. Mitigate (reweighing, thresholds per group, more data for the group) and evaluate again.",
        references: &["OWASP ML Top 10", "docs/evaluation.md"],
    },
    rampart_core::Rule {
        id: "EVAL-REGRESSION",
        name: "new-version-worse-than-old",
        default_severity: Severity::High,
        summary: "A new model version is worse than the one it would replace, beyond the margin and with confidence, on a metric overall or on a slice of the data.",
        description: "Both versions were run on the same evaluation rows and compared by the paired bootstrap: each resample weighs the rows once for both models, so the interval is of the difference itself. A regression is an interval of the gain wholly below minus the margin; slices (a column's values, or quantile bins of a numeric column) catch a loss that the overall metric averages away.",
        fix: "Read which metric and slice regressed; fix the new version, or accept the loss knowingly by raising --margin in review.",
        references: &["docs/evaluation.md"],
    },
    rampart_core::Rule {
        id: "EVAL-OVERLAP",
        name: "evaluation-rows-in-training-data",
        default_severity: Severity::High,
        summary: "Rows of the evaluation data are also in the training data: the model was measured on rows it learnt.",
        description: "With --train, the evaluation set is compared row by row with the training set (every column but the label, trimmed and lowercased; with --near, rows nearly equal by Jaccard similarity of their values and words), as `rampart data poison --leak-from` does. A model evaluated on its own training rows looks better than it is; the gate fails however good the metrics.",
        fix: "Remove the rows from the evaluation set (`rampart data poison EVAL --leak-from TRAIN --json` then `rampart data filter`), or split the data again so the sets are disjoint.",
        references: &["OWASP ML02:2023 Data Poisoning Attack", "docs/evaluation.md"],
    },
    rampart_core::Rule {
        id: "EVAL-ROBUSTNESS",
        name: "model-evaded-by-adversarial-inputs",
        default_severity: Severity::High,
        summary: "A black-box evasion attack turned more of the model's correct decisions than the threshold allows, within its query budget.",
        description: "HopSkipJump and the Boundary attack need only the model's decisions, SimBA and the Square attack its probabilities; the tabular search changes only what the data can hold (each column's range, whole numbers, seen categories) and leaves immutable columns alone. Each attacks a seeded sample of the rows the model gets right, with a budget of queries per row; the success rate is the share it turned, with the perturbations' sizes beside it.",
        fix: "Read how small the successful perturbations are and which features they change. Train on the adversarial rows (`--emit-adversarial`), add input validation for the changed features, or accept the risk knowingly by raising the threshold in review.",
        references: &["OWASP ML01:2023 Input Manipulation Attack", "MITRE ATLAS AML.T0043", "docs/evaluation.md"],
    },
    rampart_core::Rule {
        id: "EVAL-SMALL-GROUP",
        name: "fairness-group-too-small",
        default_severity: Severity::Low,
        summary: "A group of the sensitive features has fewer rows than the minimum: its rates are reported but too noisy to judge.",
        description: "Fairlearn's aggregates include every group, and so do Rampart's; the four-fifths rule leaves small groups out, and each is named here so that nobody reads its absence as fairness.",
        fix: "Collect more evaluation rows of the group, or lower --min-group knowingly.",
        references: &["docs/evaluation.md"],
    },
];

/// The findings of a verdict: each failed threshold, the four-fifths
/// rule when it failed, and the small groups.
pub fn findings(e: &Evaluation, v: &Verdict) -> Vec<Finding> {
    let at = || Location::file(e.model.path.display().to_string());
    let mut out = Vec::new();
    for j in v.judged.iter().filter(|j| !j.passed) {
        let t = j.threshold;
        let rule = match t.measure {
            Measure::Metric(_) => "EVAL-QUALITY",
            Measure::Fairness(_) => "EVAL-FAIRNESS",
            Measure::SuccessRate(_) => "EVAL-ROBUSTNESS",
        };
        let (word, sign) = match t.bound {
            Bound::Min => ("at least", ">="),
            Bound::Max => ("at most", "<="),
        };
        let message = match j.observed {
            Some(o) => format!(
                "{} is {o:.4}; the policy wants {word} {}",
                t.measure.name(),
                t.value
            ),
            None => format!(
                "{} could not be computed on this data; the policy wants {word} {}",
                t.measure.name(),
                t.value
            ),
        };
        out.push(
            Finding::new(rule, Severity::High, at(), message)
                .with("data_sha256", e.data.sha256.clone())
                .with(
                    "threshold",
                    format!("{} {sign} {}", t.measure.name(), t.value),
                ),
        );
    }
    if let Some(f) = &e.fairness {
        if v.four_fifths == Some(false) {
            let judged = f.groups.iter().filter(|g| !g.small).count();
            let message = if f.four_fifths.failing.is_empty() {
                // Failed for want of groups to compare, not by a ratio.
                format!(
                    "four-fifths rule not judged: {judged} group(s) of at least {} rows, and the rule compares two or more; the data must hold each group the rule is to protect",
                    f.min_count
                )
            } else {
                format!(
                    "four-fifths rule: {} selected at under 0.8 of the highest rate (lowest ratio {})",
                    f.four_fifths.failing.join("; "),
                    f.four_fifths
                        .lowest_ratio
                        .map_or("undefined".into(), |r| format!("{r:.3}"))
                )
            };
            out.push(Finding::new("EVAL-FAIRNESS", Severity::High, at(), message));
        }
        for g in &f.four_fifths.not_judged {
            out.push(Finding::new(
                "EVAL-SMALL-GROUP",
                Severity::Low,
                at(),
                format!("{g}: fewer than {} rows", f.min_count),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_knows_every_measure_and_no_other() {
        let mut ours = Measure::names();
        let mut policy: Vec<&str> = rampart_core::eval_measures().collect();
        ours.sort_unstable();
        policy.sort_unstable();
        assert_eq!(ours, policy);
        let fairness: Vec<&str> = crate::fairness::AGGREGATES
            .iter()
            .map(|a| a.name())
            .collect();
        assert_eq!(fairness, rampart_core::FAIRNESS_MEASURES);
    }

    #[test]
    fn thresholds_parse_and_name_the_measures() {
        let t = Threshold::parse(Bound::Min, "accuracy=0.8").unwrap();
        assert_eq!(t.measure, Measure::Metric(Metric::Accuracy));
        let t = Threshold::parse(Bound::Max, " demographic_parity_difference = 0.1").unwrap();
        assert_eq!(
            t.measure,
            Measure::Fairness(Aggregate::DemographicParityDifference)
        );
        let e = Threshold::parse(Bound::Min, "acc=0.8").unwrap_err();
        assert!(
            e.contains("no measure \"acc\"") && e.contains("balanced_accuracy"),
            "{e}"
        );
        assert!(Threshold::parse(Bound::Min, "accuracy").is_err());
        assert!(Threshold::parse(Bound::Min, "accuracy=nan").is_err());
        assert!(Threshold::parse(Bound::Min, "accuracy=high").is_err());
    }
}
