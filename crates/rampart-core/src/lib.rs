//! Shared vocabulary of every Rampart gate.
//!
//! A gate (a [`Check`]) reads artifacts and returns a [`Report`] of
//! [`Finding`]s. Findings carry stable rule ids documented once in a
//! [`Rule`] catalog. A [`Policy`] (`rampart.toml`) adjusts severities,
//! suppresses findings and decides which severity fails a gate. Renderers
//! turn a report into a table, JSON or SARIF 2.1.0. Nothing here prints or
//! exits: the binary does I/O with the user.

mod check;
mod finding;
mod fs;
mod policy;
pub mod render;
mod rules;
mod suggest;
pub mod zstd;

pub use check::{Check, CheckError, NoProgress, Progress};
pub use finding::{Artifact, Finding, Location, Report, Severity, SeverityCounts};
pub use fs::{
    check_new_output, check_output, hf_cache_repo, parent_dir, persist, persist_new,
    private_temp_beside, remove_pending, remove_stale, special_file, temp_beside, temp_dir_beside,
    write_atomic, write_atomic_with, write_new,
};
pub use policy::{
    eval_measures, Admission, AliasRule, BadInput, EvalBar, EvalGate, GateKind, GateSpec, PiiGate,
    Policy, PolicyError, RegistryPolicy, RiskGate, RulePolicy, ScanGate, ScanPolicy, Stage,
    Suppression, VerifyGate, ATTACK_MEASURES, FAIRNESS_MEASURES, POLICY_FILE_NAME,
    QUALITY_MEASURES,
};
pub use rules::{Catalog, Rule};
pub use suggest::{did_you_mean, nearest};
