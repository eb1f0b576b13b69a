//! `rampart run`: the stages of `rampart.toml`, in order, each gate
//! attested in the ledger when the project has one.

use crate::{Context, Error, Gate};
use rampart_core::{GateKind, GateSpec, Policy};
use rampart_evidence::{Project, Started};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One gate's line in a pipeline's report.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// The gate as attested.
    pub gate: String,
    /// Its inputs as the policy names them.
    pub inputs: Vec<String>,
    pub passed: bool,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<rampart_core::Finding>,
    /// The gate could not run (its summary says why): the run is an
    /// error, not only a failure.
    #[serde(skip)]
    pub error: bool,
    /// The gate's own HTML section (an evaluation's tables and plots).
    #[serde(skip)]
    pub html: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageResult {
    pub name: String,
    pub passed: bool,
    pub gates: Vec<GateResult>,
}

/// What a run did.
#[derive(Debug)]
pub struct Results {
    pub stages: Vec<StageResult>,
    /// Gates that could not run.
    pub errors: usize,
    /// The size of the ledger checkpoint signed at the end, if any.
    pub checkpoint: Option<u64>,
    /// The stage that failed and stopped the run (without keep_going).
    pub stopped_at: Option<String>,
}

impl Results {
    pub fn passed(&self) -> bool {
        self.stages.iter().all(|s| s.passed)
    }
}

/// What a front end hears as the run goes.
pub trait Observer {
    fn gate_started(&self, stage: &str, gate: GateKind) {
        let _ = (stage, gate);
    }
    fn gate_finished(&self, stage: &str, result: &GateResult) {
        let _ = (stage, result);
    }
}

/// An [`Observer`] that hears nothing.
pub struct Unobserved;
impl Observer for Unobserved {}

/// A run to make.
pub struct Run<'a> {
    pub policy: &'a Policy,
    /// Stages to run, by name, in the policy's order (empty: all).
    pub stages: &'a [String],
    /// Run later stages even after one fails.
    pub keep_going: bool,
    /// Where to record each gate (None: nowhere).
    pub project: Option<&'a Project>,
}

/// Paths in a policy are relative to the policy file's folder.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The gate a policy entry describes, its paths resolved against `base`.
pub fn gate_of(spec: &GateSpec, base: &Path) -> Result<Box<dyn Gate>, Error> {
    let inputs: Vec<PathBuf> = spec.inputs().iter().map(|p| resolve(base, p)).collect();
    let reading = |encoding: &Option<String>, bad_input| {
        rampart_dataset::Reading::default().with_flags(bad_input, encoding.as_deref(), None)
    };
    let one = |what: &str| -> Result<PathBuf, Error> {
        match inputs.as_slice() {
            [path] => Ok(path.clone()),
            _ => Err(Error::Config(format!(
                "a {} gate takes exactly one input ({what})",
                spec.kind().name()
            ))),
        }
    };
    Ok(match spec {
        GateSpec::Scan(g) => Box::new(crate::Scan {
            inputs,
            fail_on: g.fail_on,
        }),
        GateSpec::Verify(g) => {
            let key = g.key.as_deref().map(|k| resolve(base, k));
            let ca: Vec<PathBuf> = g.ca.iter().map(|c| resolve(base, c)).collect();
            let signature = g.signature.as_deref().map(|s| resolve(base, s));
            let path = one("the model folder or file")?;
            Box::new(crate::Verify::from_files(
                path,
                key.as_deref(),
                &ca,
                signature,
            )?)
        }
        GateSpec::Pii(g) => Box::new(crate::PiiScan {
            inputs,
            threshold: g.threshold.unwrap_or(0.5),
            reading: reading(&g.encoding, g.bad_input)?,
            // The gate counts every match; it lists none.
            max_matches: 1,
        }),
        GateSpec::Risk(g) => Box::new(crate::RiskCheck {
            path: one("the dataset")?,
            quasi: g.quasi.clone(),
            sensitive: g.sensitive.clone(),
            min_k: g.min_k.unwrap_or(5),
            min_l: g.min_l.unwrap_or(2),
            max_rows: 20,
            reading: reading(&g.encoding, g.bad_input)?,
        }),
        GateSpec::Eval(g) => Box::new(eval_gate(g, one("the ONNX model")?, base, reading)?),
    })
}

/// The eval gate a policy entry describes.
fn eval_gate(
    g: &rampart_core::EvalGate,
    model: PathBuf,
    base: &Path,
    reading: impl Fn(
        &Option<String>,
        Option<rampart_core::BadInput>,
    ) -> Result<rampart_dataset::Reading, rampart_dataset::Error>,
) -> Result<crate::Eval, Error> {
    let bounds = |bound, m: &std::collections::BTreeMap<String, f64>| {
        m.iter()
            .map(|(k, v)| rampart_eval::Threshold::new(bound, k, *v).map_err(Error::Config))
            .collect::<Result<Vec<_>, Error>>()
    };
    Ok(crate::Eval {
        model,
        data: resolve(base, &g.data),
        label: g.label.clone(),
        features: g.features.clone(),
        classes: g.classes.clone(),
        sensitive: g.sensitive.clone(),
        privileged: g.privileged.clone().into_iter().collect(),
        positive: g.positive.clone(),
        min_group: g.min_group.unwrap_or(30),
        min: bounds(rampart_eval::Bound::Min, &g.min)?,
        max: bounds(rampart_eval::Bound::Max, &g.max)?,
        four_fifths: g.four_fifths,
        eval_data: g.eval_data.clone(),
        train: g.train.as_deref().map(|t| resolve(base, t)),
        near: g.near,
        bootstrap: g.bootstrap.unwrap_or(1000),
        confidence: 0.95,
        seed: g.seed.unwrap_or(0),
        logits: g.logits,
        attacking: attacking(g)?,
        reading: reading(&g.encoding, g.bad_input)?,
    })
}

/// The attacks a policy's eval gate names.
fn attacking(g: &rampart_core::EvalGate) -> Result<crate::eval::Attacking, Error> {
    let d = crate::eval::Attacking::default();
    let attacks = g
        .attacks
        .iter()
        .map(|a| {
            rampart_eval::attack::Attack::parse(a).ok_or_else(|| {
                Error::Config(format!(
                    "eval gate: no attack {a:?}; the attacks are {}",
                    rampart_eval::attack::ATTACKS.map(|a| a.name()).join(", ")
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(crate::eval::Attacking {
        attacks,
        attack_rows: g.attack_rows.unwrap_or(d.attack_rows),
        queries: g.queries.unwrap_or(d.queries),
        epsilon: g.epsilon.unwrap_or(d.epsilon),
        target: g.target.clone(),
        bounds: g.bounds.map(|[a, b]| (a, b)),
        immutable: g.immutable.clone(),
        categorical: g.categorical.clone(),
    })
}

/// Runs one gate of the policy and records it.
fn run_gate(
    spec: &GateSpec,
    base: &Path,
    ctx: &Context,
    project: Option<&Project>,
    policy_sha256: &str,
) -> Result<GateResult, Error> {
    let started = Started::now();
    let gate = gate_of(spec, base)?;
    let outcome = match gate.run(ctx) {
        Ok(o) => o,
        Err(e) if e.is_unread() => crate::unread(gate.as_ref(), &e, started),
        Err(e) => return Err(e),
    };
    let ledger_index = project
        .map(|p| outcome.record(p, policy_sha256))
        .transpose()?;
    let html = match &outcome.report {
        crate::Report::Eval(run) => Some(crate::eval_html::section(run)),
        _ => None,
    };
    Ok(GateResult {
        gate: outcome.gate.to_string(),
        inputs: names(spec),
        passed: outcome.passed,
        summary: outcome.summary,
        ledger_index,
        findings: outcome.findings,
        error: false,
        html,
    })
}

/// A gate's inputs as the policy names them, for reports.
fn names(spec: &GateSpec) -> Vec<String> {
    spec.inputs()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// The folder a policy's paths are relative to.
pub fn base_of(policy: &Policy) -> PathBuf {
    policy
        .source
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every file a pipeline reads: the policy itself, each gate's inputs and
/// the verify gates' keys, certificates and signatures. A report must
/// never be written over one of them.
pub fn reads(policy: &Policy) -> Vec<PathBuf> {
    let base = base_of(policy);
    let mut inputs: Vec<PathBuf> = policy.source.iter().cloned().collect();
    for g in policy.stages.iter().flat_map(|s| &s.gates) {
        inputs.extend(g.inputs().iter().map(|p| base.join(p)));
        if let GateSpec::Verify(v) = g {
            let trust = [&v.key, &v.ca, &v.signature];
            inputs.extend(trust.into_iter().flatten().map(|p| base.join(p)));
        }
        if let GateSpec::Eval(e) = g {
            inputs.push(base.join(&e.data));
            inputs.extend(e.train.iter().map(|t| base.join(t)));
        }
    }
    inputs
}

/// Runs the stages. A gate that could not run fails its stage and counts
/// in [`Results::errors`]; the run goes on as after a failure.
pub fn run(r: &Run, observer: &dyn Observer) -> Result<Results, Error> {
    let policy = r.policy;
    if policy.source.is_none() {
        return Err(Error::Config(
            "no rampart.toml here or in a parent folder: run `rampart init` to write one (or give --config FILE)".into(),
        ));
    }
    if policy.stages.is_empty() {
        return Err(Error::Config(
            "the policy has no [[stage]]; see `rampart init` or docs/evidence.md (Pipelines)"
                .into(),
        ));
    }
    for s in r.stages {
        if !policy.stages.iter().any(|st| &st.name == s) {
            let known: Vec<&str> = policy.stages.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Config(format!(
                "no stage {s:?} in the policy (stages: {})",
                known.join(", ")
            )));
        }
    }
    let base = base_of(policy);
    let policy_sha256 = crate::policy_digest(policy);
    let ctx = Context {
        policy,
        progress: &rampart_core::NoProgress,
        watch: &rampart_dataset::Quiet,
    };
    let mut results = Results {
        stages: Vec::new(),
        errors: 0,
        checkpoint: None,
        stopped_at: None,
    };
    for stage in policy
        .stages
        .iter()
        .filter(|s| r.stages.is_empty() || r.stages.contains(&s.name))
    {
        let mut gates = Vec::new();
        for spec in &stage.gates {
            observer.gate_started(&stage.name, spec.kind());
            let g = run_gate(spec, &base, &ctx, r.project, &policy_sha256).unwrap_or_else(|e| {
                results.errors += 1;
                let e = Error::Stage {
                    stage: stage.name.clone(),
                    source: Box::new(e),
                };
                GateResult {
                    gate: spec.kind().attested_as().to_string(),
                    inputs: names(spec),
                    passed: false,
                    summary: format!("error: {}", chain(&e)),
                    ledger_index: None,
                    findings: Vec::new(),
                    error: true,
                    html: None,
                }
            });
            observer.gate_finished(&stage.name, &g);
            gates.push(g);
        }
        let passed = gates.iter().all(|g| g.passed);
        results.stages.push(StageResult {
            name: stage.name.clone(),
            passed,
            gates,
        });
        if !passed && !r.keep_going {
            results.stopped_at = Some(stage.name.clone());
            break;
        }
    }
    // Checkpoint the ledger, so that the run's attestations can be proven.
    if let Some(p) = r.project {
        results.checkpoint = Some(p.checkpoint()?);
    }
    Ok(results)
}

/// An error and its causes, joined by `: `, leaving out a cause whose
/// text an earlier part already holds.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}
