//! `rampart data poison | filter`.

use super::{warn, FilterArgs, PoisonArgs};
use crate::common::{print_json, record_details, verdict};
use anyhow::{Context, Result};
use rampart_dataset::poison::{LabelIssues, Options, Outliers};
use rampart_dataset::skipped_note;
use rampart_profile::duplicates::{Finding, FindingKind};
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
    let started = rampart_evidence::Started::now();
    let reading = a.common.reading()?;
    let watch = crate::progress::Watch::default();
    let r = rampart_dataset::poison::check(&a.path, &options(a), &reading, &watch)?;
    warn(&r.warnings);
    if a.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            file: String,
            sha256: String,
            #[serde(flatten)]
            report: &'a rampart_dataset::poison::Report,
        }
        print_json(&Out {
            file: a.path.display().to_string(),
            sha256: rampart_sign::artifact_digest(&a.path)?,
            report: &r,
        })?;
    } else {
        let parquet = rampart_table::detect(&a.path)
            .is_ok_and(|s| matches!(s.format, rampart_table::Format::Parquet));
        let place = if parquet { "rows" } else { "lines" };
        for f in &r.findings {
            println!("{}", finding_line(f, r.rows, a.min_share, place));
        }
        if let Some(info) = &r.label_issues {
            println!("label issues: {}", info.model);
        }
        if let Some(info) = &r.outliers {
            println!(
                "outliers: isolation forest over {} columns{}, threshold {}",
                info.features.len(),
                if info.left_out.is_empty() {
                    String::new()
                } else {
                    format!(" (left out: {})", info.left_out.join(", "))
                },
                a.outlier_threshold
            );
        }
        println!(
            "{}: {} rows, {} finding{}{}",
            a.path.display(),
            r.rows,
            r.findings.len(),
            if r.findings.len() == 1 { "" } else { "s" },
            skipped_note(r.skipped)
        );
    }
    let mut inputs = vec![a.path.clone()];
    inputs.extend(a.leak_from.iter().cloned());
    inputs.extend(a.reference.iter().cloned());
    let details = r.details(a.label.as_deref());
    let ledger = a.common.ledger();
    record_details(
        ledger,
        "data-poison",
        &inputs,
        r.passed(),
        "default",
        started,
        details,
    )?;
    Ok(verdict(r.passed()))
}

/// One finding, for people; `place` names what its numbers count
/// ("lines" of a text file, "rows" of a Parquet file).
fn finding_line(f: &Finding, rows: u64, min_share: f64, place: &str) -> String {
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
        (Some(column), None) if f.kind == FindingKind::LabelShift => {
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

pub(super) fn filter(a: &FilterArgs) -> Result<ExitCode> {
    let started = rampart_evidence::Started::now();
    let reading = a.common.reading()?;
    crate::output::check(&a.output, std::slice::from_ref(&a.input))?;
    let report_text = std::fs::read_to_string(&a.drop_findings)
        .with_context(|| format!("cannot read the report {}", a.drop_findings.display()))?;
    let report = rampart_dataset::filter::PoisonFile::parse(&report_text, &a.drop_findings)?;
    let watch = crate::progress::Watch::default();
    let f = rampart_dataset::filter::filter(
        &a.input,
        &a.output,
        &report,
        &a.drop_findings,
        &a.kinds,
        &reading,
        &watch,
    )?;
    if a.json {
        let out = serde_json::json!({"input": a.input.display().to_string(), "output": a.output.display().to_string(),
            "rows": f.rows, "dropped": f.dropped, "kept": f.kept, "dropped_by_kind": f.dropped_by_kind});
        print_json(&out)?;
    } else {
        let kinds: Vec<String> = f
            .dropped_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "{}: dropped {} of {} rows ({}); wrote {} row{} to {}",
            a.input.display(),
            f.dropped,
            f.rows,
            if kinds.is_empty() {
                "nothing to drop".to_string()
            } else {
                kinds.join(", ")
            },
            f.kept,
            if f.kept == 1 { "" } else { "s" },
            a.output.display()
        );
    }
    let details = serde_json::json!({"rows": f.rows, "dropped": f.dropped,
        "dropped_by_kind": f.dropped_by_kind, "report_sha256": rampart_evidence::sha256_hex(report_text.as_bytes())});
    let inputs = [a.input.clone(), a.output.clone()];
    let ledger = a.common.ledger();
    record_details(
        ledger,
        "data-filter",
        &inputs,
        true,
        "default",
        started,
        details,
    )?;
    Ok(ExitCode::SUCCESS)
}
