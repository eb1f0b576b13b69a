//! Admission: does an artifact's evidence satisfy the policy?
//!
//! The newest attestation of each required gate decides. It must verify,
//! be in the last checkpoint, have passed, and meet admission's own
//! [`Bar`]: admission never trusts the pass flag a run chose alone (a
//! scan run with `--fail-on critical` passed by its own lights, but its
//! counts are judged here again).

use crate::{Error, Evidence};
use rampart_core::{GateKind, Policy, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What admission judges evidence by: `[admission]` with its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// scan: findings at or above this refuse the artifact.
    pub fail_on: Severity,
    /// pii: evidence made with a laxer (higher) score threshold is refused.
    pub threshold: f32,
    /// risk: the smallest k, and l when a sensitive column was measured.
    pub min_k: u64,
    pub min_l: u64,
    /// eval: bounds on the recorded measures, the evaluation set.
    pub eval: rampart_core::EvalBar,
}

impl Bar {
    /// A registry alias's bar: its rule's thresholds where it sets them,
    /// else `[admission]`'s.
    pub fn for_alias(policy: &Policy, rule: &rampart_core::AliasRule) -> Self {
        let base = Bar::from_policy(policy);
        Bar {
            fail_on: rule.fail_on.unwrap_or(base.fail_on),
            threshold: rule.threshold.unwrap_or(base.threshold),
            min_k: rule.min_k.unwrap_or(base.min_k),
            min_l: rule.min_l.unwrap_or(base.min_l),
            eval: rule.eval.clone().unwrap_or(base.eval),
        }
    }

    pub fn from_policy(policy: &Policy) -> Self {
        let a = &policy.admission;
        Bar {
            fail_on: a.fail_on.unwrap_or(policy.fail_on),
            threshold: a.threshold.unwrap_or(0.5),
            min_k: a.min_k.unwrap_or(5),
            min_l: a.min_l.unwrap_or(2),
            eval: a.eval.clone().unwrap_or_default(),
        }
    }
}

/// The verdict, with every reason for a refusal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub required: Vec<&'static str>,
    /// Empty when admitted.
    pub reasons: Vec<String>,
}

impl Decision {
    pub fn admitted(&self) -> bool {
        self.reasons.is_empty()
    }

    /// ADMITTED or REFUSED, with what admitted it or every reason.
    pub fn text(&self, evidence: &Evidence) -> String {
        let (path, digest) = (evidence.artifact.display(), &evidence.digest);
        if self.admitted() {
            format!(
                "ADMITTED {path} (sha256 {digest}): passing evidence for {}\n",
                self.required.join(", ")
            )
        } else {
            format!(
                "REFUSED {path} (sha256 {digest}): {}\n",
                self.reasons.join("; ")
            )
        }
    }
}

/// Judges `evidence` for every gate in `required`.
pub fn decide(evidence: &Evidence, required: &[GateKind], bar: &Bar) -> Result<Decision, Error> {
    if required.is_empty() {
        return Err(Error::NothingRequired);
    }
    let mut reasons = Vec::new();
    for &kind in required {
        let gate = kind.name();
        match evidence.latest(kind.attested_as()) {
            None => reasons.push(format!("no {gate} attestation for this artifact")),
            Some(f) if !f.signature_ok => reasons.push(format!(
                "the {gate} attestation (entry {}) has a bad signature",
                f.index
            )),
            Some(f) if !f.included => reasons.push(format!(
                "the {gate} attestation (entry {}) is not in a checkpoint yet (run `rampart ledger checkpoint`)",
                f.index
            )),
            Some(f) if f.passed != Some(true) => reasons.push(format!(
                "the latest {gate} run (entry {}) failed",
                f.index
            )),
            Some(f) => {
                if let Some(why) = short_of(kind, &f.predicate, bar) {
                    reasons.push(format!(
                        "the latest {gate} run (entry {}) does not meet the admission policy: {why}",
                        f.index
                    ));
                }
            }
        }
    }
    Ok(Decision {
        required: required.iter().map(|g| g.name()).collect(),
        reasons,
    })
}

/// What admission reads of a scan's predicate.
#[derive(Deserialize)]
struct ScanEvidence {
    counts: Option<BTreeMap<String, u64>>,
    fail_on: Option<String>,
}

/// What admission reads of a PII scan's predicate.
#[derive(Deserialize)]
struct PiiEvidence {
    threshold: Option<f64>,
    #[serde(default)]
    files: Vec<PiiFile>,
}

#[derive(Deserialize)]
struct PiiFile {
    #[serde(default)]
    skipped: u64,
}

/// What admission reads of a re-identification risk predicate.
#[derive(Deserialize)]
struct RiskEvidence {
    k: Option<u64>,
    l: Option<u64>,
    sensitive: Option<String>,
    #[serde(default)]
    skipped: u64,
}

/// What admission reads of an evaluation's predicate.
#[derive(Deserialize)]
struct EvalEvidence {
    data_sha256: Option<String>,
    #[serde(default)]
    measures: BTreeMap<String, f64>,
    four_fifths: Option<bool>,
    sensitive_features: Option<Vec<String>>,
    privileged: Option<BTreeMap<String, String>>,
    positive: Option<String>,
    min_group: Option<u64>,
    #[serde(default)]
    skipped: u64,
    #[serde(default)]
    attacks: Vec<AttackEvidence>,
}

/// What admission reads of one attack an evaluation ran.
#[derive(Deserialize)]
struct AttackEvidence {
    attack: String,
    target: Option<String>,
    queries_per_input: u64,
    epsilon: Option<f64>,
    #[serde(default)]
    immutable: Vec<String>,
    attacked: u64,
}

/// Why an attack's success rate is weaker evidence than admission asks:
/// fewer queries or inputs, a smaller epsilon, more features held
/// immutable, or another goal. Each makes the attack easier to survive.
fn attack_short_of(e: &EvalEvidence, bar: &rampart_core::EvalBar, why: &mut Vec<String>) {
    let bounded = bar.min.keys().chain(bar.max.keys());
    for name in bounded.filter_map(|k| k.strip_suffix("_success_rate")) {
        let Some(a) = e.attacks.iter().find(|a| a.attack == name) else {
            continue;
        };
        let queries = bar.queries.unwrap_or(1000);
        if a.queries_per_input < queries {
            why.push(format!(
                "{name} had {} queries per input; admission wants at least {queries}",
                a.queries_per_input
            ));
        }
        let attacked = bar.attacked.unwrap_or(100);
        if a.attacked < attacked {
            why.push(format!(
                "{name} attacked {} inputs; admission wants at least {attacked}",
                a.attacked
            ));
        }
        let epsilon = bar.epsilon.unwrap_or(0.1);
        if let Some(eps) = a.epsilon.filter(|&x| x < epsilon) {
            why.push(format!(
                "{name} used epsilon {eps}; admission wants at least {epsilon}"
            ));
        }
        let spared: Vec<&String> = a
            .immutable
            .iter()
            .filter(|f| !bar.immutable.contains(f))
            .collect();
        if !spared.is_empty() {
            why.push(format!(
                "{name} held {} immutable, which admission does not allow",
                spared
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if a.target != bar.target {
            why.push(match &a.target {
                Some(t) => format!("{name} was targeted at {t:?}, not the goal admission names"),
                None => format!(
                    "{name} was untargeted; admission names the target {:?}",
                    bar.target.as_deref().unwrap_or_default()
                ),
            });
        }
    }
}

/// Why fairness evidence was not measured as admission says: by other
/// sensitive features, against a chosen privileged group, for another
/// decision, or leaving larger groups unjudged.
fn fairness_short_of(e: &EvalEvidence, bar: &rampart_core::EvalBar, why: &mut Vec<String>) {
    let mut want = bar.sensitive.clone();
    want.sort();
    let mut got = e.sensitive_features.clone().unwrap_or_default();
    got.sort();
    if !want.is_empty() && want != got {
        why.push(format!(
            "fairness was measured by [{}], not by [{}]",
            got.join(", "),
            want.join(", ")
        ));
    }
    if e.privileged != bar.privileged {
        why.push(match &e.privileged {
            Some(p) => {
                format!("disparate impact was measured against a chosen privileged group {p:?}")
            }
            None => {
                "disparate impact was not measured against the privileged group admission names"
                    .into()
            }
        });
    }
    if let Some(p) = &bar.positive {
        if e.positive.as_ref() != Some(p) {
            why.push(format!(
                "fairness was measured for the decision {:?}, not {p:?}",
                e.positive
            ));
        }
    }
    let most = bar.min_group.unwrap_or(30);
    if let Some(m) = e.min_group.filter(|&m| m > most) {
        why.push(format!(
            "it left groups under {m} rows unjudged; admission allows at most {most}"
        ));
    }
}

/// Why an evaluation does not meet `[admission.eval]`: each measure
/// judged from the value it recorded; one not recorded fails.
fn eval_short_of(e: &EvalEvidence, bar: &rampart_core::EvalBar) -> Option<String> {
    let mut why = Vec::new();
    if let Some(want) = &bar.eval_data {
        let want = want.trim_start_matches("sha256:").to_ascii_lowercase();
        if e.data_sha256.as_deref() != Some(want.as_str()) {
            why.push(format!(
                "it was made on data with SHA-256 {}, not the evaluation set sha256:{want}",
                e.data_sha256.as_deref().unwrap_or("(none recorded)")
            ));
        }
    }
    let bounds = bar.min.iter().map(|(k, v)| (k, v, true));
    for (name, &bound, is_min) in bounds.chain(bar.max.iter().map(|(k, v)| (k, v, false))) {
        match e.measures.get(name) {
            None => why.push(format!("it records no {name}")),
            Some(&v) if is_min && v < bound => {
                why.push(format!("{name} = {v:.4}, under admission's {bound}"))
            }
            Some(&v) if !is_min && v > bound => {
                why.push(format!("{name} = {v:.4}, over admission's {bound}"))
            }
            Some(_) => {}
        }
    }
    if bar.four_fifths && e.four_fifths != Some(true) {
        why.push("the four-fifths rule was not met".into());
    }
    if e.skipped > 0 {
        why.push(format!(
            "{} records of the data were skipped unread",
            e.skipped
        ));
    }
    let judges_fairness = bar.four_fifths
        || !bar.sensitive.is_empty()
        || bar
            .min
            .keys()
            .chain(bar.max.keys())
            .any(|k| rampart_core::FAIRNESS_MEASURES.contains(&k.as_str()));
    if judges_fairness {
        fairness_short_of(e, bar, &mut why);
    }
    attack_short_of(e, bar, &mut why);
    (!why.is_empty()).then(|| why.join("; "))
}

/// Why the newest evidence of `gate` does not meet the bar, judged from
/// what it measured rather than from the pass flag its run chose.
fn short_of(gate: GateKind, p: &serde_json::Value, bar: &Bar) -> Option<String> {
    fn read<T: for<'de> Deserialize<'de>>(p: &serde_json::Value) -> Result<T, String> {
        T::deserialize(p).map_err(|e| format!("its predicate cannot be read ({e})"))
    }
    match gate {
        GateKind::Scan => {
            let s: ScanEvidence = match read(p) {
                Ok(s) => s,
                Err(e) => return Some(e),
            };
            let Some(counts) = s.counts else {
                return Some("it records no counts by severity".into());
            };
            let over: Vec<String> = Severity::ALL
                .iter()
                .filter(|s| **s >= bar.fail_on)
                .filter_map(|s| {
                    let c = counts.get(s.as_str()).copied().unwrap_or(0);
                    (c > 0).then(|| format!("{c} {s}"))
                })
                .collect();
            if !over.is_empty() {
                return Some(format!(
                    "it has {} findings, at or above admission's fail_on {} (the run used fail_on {})",
                    over.join(", "),
                    bar.fail_on,
                    s.fail_on.as_deref().unwrap_or("?")
                ));
            }
        }
        GateKind::Pii => {
            let s: PiiEvidence = match read(p) {
                Ok(s) => s,
                Err(e) => return Some(e),
            };
            match s.threshold {
                None => return Some("it records no score threshold".into()),
                Some(t) if t > f64::from(bar.threshold) + 1e-6 => {
                    return Some(format!(
                        "it was made with threshold {t}, laxer than admission's {}",
                        bar.threshold
                    ))
                }
                _ => {}
            }
            let skipped: u64 = s.files.iter().map(|f| f.skipped).sum();
            if skipped > 0 {
                return Some(format!("{skipped} records were skipped unread"));
            }
        }
        GateKind::Risk => {
            let s: RiskEvidence = match read(p) {
                Ok(s) => s,
                Err(e) => return Some(e),
            };
            let k = s.k.unwrap_or(0);
            if k < bar.min_k {
                return Some(format!("k = {k}, under admission's min_k {}", bar.min_k));
            }
            if s.sensitive.is_some() {
                let l = s.l.unwrap_or(0);
                if l < bar.min_l {
                    return Some(format!("l = {l}, under admission's min_l {}", bar.min_l));
                }
            }
            if s.skipped > 0 {
                return Some("records were skipped unread".into());
            }
        }
        GateKind::Eval => {
            if !bar.eval.judges() {
                return Some("admission sets no [admission.eval] bounds to judge it by".into());
            }
            let e: EvalEvidence = match read(p) {
                Ok(e) => e,
                Err(e) => return Some(e),
            };
            return eval_short_of(&e, &bar.eval);
        }
        GateKind::Sign | GateKind::Verify => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, Project, Started};
    use serde_json::json;

    fn bar() -> Bar {
        Bar::from_policy(&Policy::default())
    }

    fn scan(project: &Project, model: &std::path::Path, passed: bool, high: u64) -> u64 {
        project
            .record(&Outcome {
                gate: "scan",
                inputs: &[model.to_path_buf()],
                passed,
                policy_sha256: "default",
                started: Started::now(),
                details: json!({"fail_on": "critical", "counts": {"critical": 0, "high": high}}),
            })
            .unwrap()
    }

    #[test]
    fn the_newest_signed_checkpointed_passing_run_that_meets_the_bar_admits() {
        let d = tempfile::tempdir().unwrap();
        let project = Project::at(d.path().join(".rampart"));
        project.init(Project::DEFAULT_ORIGIN).unwrap();
        let model = d.path().join("model.bin");
        std::fs::write(&model, b"weights").unwrap();
        let judge = |p: &Project| decide(&p.evidence(&model).unwrap(), &[GateKind::Scan], &bar());

        let e = judge(&project).unwrap();
        assert_eq!(e.reasons, ["no scan attestation for this artifact"]);

        assert_eq!(scan(&project, &model, true, 0), 0);
        let e = judge(&project).unwrap();
        assert!(e.reasons[0].contains("not in a checkpoint"), "{e:?}");
        project.checkpoint().unwrap();
        assert!(judge(&project).unwrap().admitted());

        // Passed by its own fail_on (critical), but has a high finding:
        // admission's fail_on (medium) refuses it.
        scan(&project, &model, true, 1);
        project.checkpoint().unwrap();
        let e = judge(&project).unwrap();
        assert!(e.reasons[0].contains("1 high"), "{e:?}");
        assert!(e.reasons[0].contains("fail_on critical"), "{e:?}");

        scan(&project, &model, false, 0);
        project.checkpoint().unwrap();
        let e = judge(&project).unwrap();
        assert!(e.reasons[0].contains("failed"), "{e:?}");

        // Other bytes are another artifact, with no evidence.
        std::fs::write(&model, b"weights, changed").unwrap();
        assert!(!judge(&project).unwrap().admitted());
        assert!(matches!(
            decide(&project.evidence(&model).unwrap(), &[], &bar()),
            Err(Error::NothingRequired)
        ));
    }

    #[test]
    fn every_predicate_has_the_header() {
        let d = tempfile::tempdir().unwrap();
        let project = Project::at(d.path().join(".rampart"));
        project.init(Project::DEFAULT_ORIGIN).unwrap();
        let data = d.path().join("data.csv");
        std::fs::write(&data, b"a\n1\n").unwrap();
        let started = Started::now();
        project
            .record(&Outcome {
                gate: "reid-risk",
                inputs: std::slice::from_ref(&data),
                passed: false,
                policy_sha256: "abc",
                started,
                details: json!({"k": 1, "passed": true}),
            })
            .unwrap();
        let ev = project.evidence(&data).unwrap();
        let a = &ev.attestations[0];
        assert!(a.signature_ok && !a.included);
        // The header wins over the details: the outcome says failed.
        assert_eq!(a.passed, Some(false));
        let h: crate::Header = serde_json::from_value(a.predicate.clone()).unwrap();
        assert_eq!(h.gate, "reid-risk");
        assert_eq!(h.policy_sha256, "abc");
        assert_eq!(h.tool_version, env!("CARGO_PKG_VERSION"));
        assert!(h.started <= h.finished);
        assert_eq!(a.predicate["k"], 1);
        // Details that are not an object are refused, not recorded.
        let bad = Outcome {
            details: json!([1]),
            ..Outcome {
                gate: "x",
                inputs: &[],
                passed: true,
                policy_sha256: "",
                started,
                details: json!({}),
            }
        };
        assert!(matches!(project.record(&bad), Err(Error::Predicate { .. })));
    }

    #[test]
    fn risk_and_pii_evidence_is_judged_by_its_numbers() {
        let b = bar();
        let risk = |p| short_of(GateKind::Risk, &p, &b);
        assert!(risk(json!({"k": 3})).unwrap().contains("k = 3"));
        assert!(risk(json!({"k": 9, "sensitive": "dx", "l": 1}))
            .unwrap()
            .contains("l = 1"));
        assert_eq!(risk(json!({"k": 9, "sensitive": null, "l": null})), None);
        assert!(risk(json!({"k": 9, "skipped": 2})).is_some());
        assert!(risk(json!({"k": "nine"}))
            .unwrap()
            .contains("cannot be read"));
        let pii = |p| short_of(GateKind::Pii, &p, &b);
        assert!(pii(json!({})).unwrap().contains("no score threshold"));
        assert!(pii(json!({"threshold": 0.9})).unwrap().contains("laxer"));
        assert!(pii(json!({"threshold": 0.5, "files": [{"skipped": 1}]})).is_some());
        assert_eq!(
            pii(json!({"threshold": 0.4, "files": [{"skipped": 0}]})),
            None
        );
        assert!(short_of(GateKind::Scan, &json!({}), &b)
            .unwrap()
            .contains("no counts"));
    }

    #[test]
    fn evaluations_are_judged_by_their_measures_and_data() {
        let mut b = bar();
        let eval = |p, b: &Bar| short_of(GateKind::Eval, &p, b);
        let good = json!({"data_sha256": "ab", "measures": {"accuracy": 0.9, "log_loss": 0.3}});
        // No bounds: nothing to judge by is a refusal, not a pass.
        assert!(eval(good.clone(), &b)
            .unwrap()
            .contains("no [admission.eval]"));
        b.eval.min.insert("accuracy".into(), 0.85);
        b.eval.max.insert("log_loss".into(), 0.35);
        assert_eq!(eval(good.clone(), &b), None);
        b.eval.min.insert("accuracy".into(), 0.95);
        assert!(eval(good.clone(), &b)
            .unwrap()
            .contains("accuracy = 0.9000, under admission's 0.95"));
        b.eval.min.insert("accuracy".into(), 0.85);
        b.eval.min.insert("roc_auc".into(), 0.8);
        assert!(eval(good.clone(), &b)
            .unwrap()
            .contains("it records no roc_auc"));
        b.eval.min.remove("roc_auc");
        b.eval.eval_data = Some("sha256:AB".into());
        assert_eq!(
            eval(good.clone(), &b),
            None,
            "digests compare in lower case"
        );
        b.eval.eval_data = Some("sha256:cd".into());
        assert!(eval(good.clone(), &b)
            .unwrap()
            .contains("not the evaluation set"));
        b.eval.eval_data = None;
        b.eval.four_fifths = true;
        assert!(eval(good, &b).unwrap().contains("four-fifths"));
    }

    #[test]
    fn fairness_evidence_must_be_measured_as_admission_says() {
        let mut b = bar();
        b.eval
            .max
            .insert("demographic_parity_difference".into(), 0.1);
        b.eval.sensitive = vec!["sex".into(), "race".into()];
        let eval = |p, b: &Bar| short_of(GateKind::Eval, &p, b);
        let fair = json!({"measures": {"demographic_parity_difference": 0.05},
            "sensitive_features": ["race", "sex"], "min_group": 30, "positive": ">50K"});
        assert_eq!(eval(fair.clone(), &b), None);
        let mut by_sex = fair.clone();
        by_sex["sensitive_features"] = json!(["sex"]);
        assert!(eval(by_sex, &b)
            .unwrap()
            .contains("measured by [sex], not by [race, sex]"));
        let mut chosen = fair.clone();
        chosen["privileged"] = json!({"sex": "Female"});
        assert!(eval(chosen, &b)
            .unwrap()
            .contains("chosen privileged group"));
        let mut lax = fair.clone();
        lax["min_group"] = json!(1_000_000);
        assert!(eval(lax, &b).unwrap().contains("unjudged"));
        let mut skipped = fair.clone();
        skipped["skipped"] = json!(2652);
        assert!(eval(skipped, &b).unwrap().contains("2652 records"));
        b.eval.positive = Some("<=50K".into());
        assert!(eval(fair, &b).unwrap().contains("decision"));
    }

    #[test]
    fn attack_evidence_must_be_as_strong_as_admission_says() {
        let mut b = bar();
        b.eval.max.insert("tabular_success_rate".into(), 0.3);
        b.eval.immutable = vec!["age".into()];
        let eval = |p, b: &Bar| short_of(GateKind::Eval, &p, b);
        let strong = json!({"measures": {"tabular_success_rate": 0.2},
            "attacks": [{"attack": "tabular", "target": null, "queries_per_input": 1000,
                "epsilon": null, "immutable": ["age"], "attacked": 1000}]});
        assert_eq!(eval(strong.clone(), &b), None);
        for (field, value, says) in [
            ("queries_per_input", json!(10), "10 queries per input"),
            ("attacked", json!(5), "attacked 5 inputs"),
            (
                "immutable",
                json!(["age", "capital_gain"]),
                "\"capital_gain\"",
            ),
            ("target", json!(">50K"), "targeted at"),
        ] {
            let mut weak = strong.clone();
            weak["attacks"][0][field] = value;
            let why = eval(weak, &b).unwrap();
            assert!(why.contains(says), "{field}: {why}");
        }
        let mut simba = json!({"measures": {"simba_success_rate": 0.2},
            "attacks": [{"attack": "simba", "queries_per_input": 1000,
                "epsilon": 0.01, "attacked": 1000}]});
        b.eval.max.insert("simba_success_rate".into(), 0.3);
        b.eval.max.remove("tabular_success_rate");
        assert!(eval(simba.clone(), &b).unwrap().contains("epsilon 0.01"));
        simba["attacks"][0]["epsilon"] = json!(0.1);
        assert_eq!(eval(simba, &b), None);
    }
}
