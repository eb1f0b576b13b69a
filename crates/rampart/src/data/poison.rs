//! `rampart data poison | filter`.

use super::{run_gate, FilterArgs, PoisonArgs};
use crate::common::verdict;
use anyhow::Result;
use rampart_dataset::poison::{LabelIssues, Options, Outliers};
use std::process::ExitCode;

fn options(a: &PoisonArgs) -> Options {
    Options {
        label: a.label.clone(),
        leak_from: a.leak_from.clone(),
        near: a.near,
        reference: a.reference.clone(),
        max_label_shift: a.max_label_shift,
        groups: a.groups.clone(),
        min_share: a.min_share,
        outliers: a.outliers.then(|| Outliers {
            threshold: a.outlier_threshold,
            trees: usize::from(a.trees),
            seed: a.seed,
            scores: a.scores.clone(),
        }),
        label_issues: (a.label_issues || a.pred_probs.is_some()).then(|| LabelIssues {
            pred_probs: a.pred_probs.clone(),
            folds: usize::from(a.folds),
            seed: a.seed,
        }),
    }
}

pub(super) fn poison(a: &PoisonArgs) -> Result<ExitCode> {
    let gate = rampart_gate::Poison {
        path: a.path.clone(),
        options: options(a),
        reading: a.common.reading()?,
    };
    Ok(verdict(run_gate(
        &gate,
        a.json,
        a.common.ledger(),
        "default",
    )?))
}

pub(super) fn filter(a: &FilterArgs) -> Result<ExitCode> {
    rampart_core::check_output(&a.output, std::slice::from_ref(&a.input))?;
    let gate = rampart_gate::Filter {
        input: a.input.clone(),
        output: a.output.clone(),
        report: a.drop_findings.clone(),
        kinds: a.kinds.clone(),
        reading: a.common.reading()?,
    };
    run_gate(&gate, a.json, a.common.ledger(), "default")?;
    Ok(ExitCode::SUCCESS)
}
