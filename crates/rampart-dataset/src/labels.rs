//! Label errors by confident learning (as cleanlab's
//! `find_label_issues`), over `rampart_profile::labels`: out-of-fold
//! probabilities from the built-in model or from a file.

use crate::error::{invalid, Error};
use crate::poison::{Features, LabelIssues, LabelModelInfo};
use crate::watch::step;
use crate::{detect, Reading, Watch};
use rampart_profile::duplicates::{Finding, FindingKind};
use rampart_profile::labels::{find_label_issues, out_of_fold, Probabilities, Settings};
use rampart_table::{Cell, Visitor};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Most classes the built-in model learns (its cost grows with classes
/// times features per row); more need `--pred-probs`.
const MAX_CLASSES: usize = 100;
/// Most levels of a category turned into one-hot features.
const MAX_LEVELS: usize = 50;
/// Rows named by line in the finding (all are in `drop`).
const SHOWN: usize = 20;

/// Collects a probability table: one value per record and class column.
struct ProbabilityVisitor {
    columns: Vec<String>,
    values: Vec<f64>,
    rows: u64,
    bad: Option<String>,
}

impl Visitor for ProbabilityVisitor {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if cell.record > self.rows {
            self.rows = cell.record;
        }
        if cell.record == 1 && !self.columns.iter().any(|c| c == cell.column) {
            self.columns.push(cell.column.to_string());
        }
        match cell.value.trim().parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => self.values.push(p),
            _ if self.bad.is_none() => {
                self.bad = Some(format!(
                    "line {}, column {:?}: {:?} is not a probability between 0 and 1",
                    cell.line, cell.column, cell.value
                ));
            }
            _ => {}
        }
        None
    }
}

fn read_probabilities(
    path: &Path,
    reading: &Reading,
) -> Result<(Vec<String>, Vec<f64>, u64), Error> {
    let source = detect(path)?;
    let mut v = ProbabilityVisitor {
        columns: Vec::new(),
        values: Vec::new(),
        rows: 0,
        bad: None,
    };
    rampart_table::process(&source, &reading.options(None), &mut v, None)?;
    if let Some(bad) = v.bad {
        invalid!("{}: {bad}", path.display());
    }
    if v.values.len() as u64 != v.rows * v.columns.len() as u64 {
        invalid!(
            "{}: every row needs a probability for each of the {} classes ({})",
            path.display(),
            v.columns.len(),
            v.columns.join(", ")
        );
    }
    Ok((v.columns, v.values, v.rows))
}

/// Each row's class index among `classes` (`usize::MAX` for a missing
/// label, which is never flagged), or the first label that is not a class.
fn class_indices(classes: &[String], given: &[Option<String>]) -> Result<Vec<usize>, String> {
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    given
        .iter()
        .map(|l| match l {
            None => Ok(usize::MAX),
            Some(l) => index.get(l.as_str()).copied().ok_or_else(|| l.clone()),
        })
        .collect()
}

/// The label-issue finding of `path` from its features and labels, and
/// what the probabilities came from.
pub(crate) fn label_issues(
    path: &Path,
    label: Option<&str>,
    settings: &LabelIssues,
    reading: &Reading,
    f: &Features,
    watch: &dyn Watch,
) -> Result<(Option<Finding>, LabelModelInfo), Error> {
    let Some(label) = label else {
        invalid!("label issues need --label");
    };
    let started = std::time::Instant::now();
    let given = &f.labels;
    let rows = &f.builder.rows;
    let (classes, labels, probabilities, model) = match &settings.pred_probs {
        Some(probs) => {
            let (classes, values, rows) = read_probabilities(probs, reading)?;
            if rows != given.len() as u64 {
                invalid!(
                    "{} has {rows} rows of probabilities, {} has {} rows: they must match one to one, in order",
                    probs.display(),
                    path.display(),
                    given.len()
                );
            }
            let labels = class_indices(&classes, given).map_err(|missing| {
                Error::invalid(format!(
                    "label {missing:?} of {} has no column of probabilities",
                    path.display()
                ))
            })?;
            (
                classes,
                labels,
                values,
                format!("probabilities from {}", probs.display()),
            )
        }
        None => {
            let mut classes: Vec<String> = given.iter().flatten().cloned().collect();
            classes.sort();
            classes.dedup();
            if classes.len() > MAX_CLASSES {
                invalid!(
                    "{}: --label {label} has {} values; the built-in model learns at most {MAX_CLASSES} classes: give --pred-probs from your own model",
                    path.display(),
                    classes.len()
                );
            }
            // Every label is a class: the classes are the labels.
            let labels = class_indices(&classes, given).unwrap_or_default();
            let x = f.builder.one_hot(MAX_LEVELS);
            let fit = Settings {
                folds: settings.folds,
                seed: settings.seed,
                ..Settings::default()
            };
            let message = format!(
                "logistic regression, {} folds over {} rows",
                settings.folds,
                labels.len()
            );
            let p = step(watch, &message, || {
                out_of_fold(&x, &labels, classes.len(), fit)
            });
            let model = format!(
                "logistic regression (L2, C = 1), {} folds, {} features from {} columns{}",
                settings.folds,
                x.columns,
                f.plan.len(),
                if f.left_out.is_empty() {
                    String::new()
                } else {
                    format!(" (left out: {})", f.left_out.join(", "))
                }
            );
            (classes, labels, p, model)
        }
    };
    let p = Probabilities {
        values: &probabilities,
        classes: classes.len(),
    };
    let issues = find_label_issues(&labels, &p);
    let info = LabelModelInfo {
        model,
        classes: classes.clone(),
        seconds: started.elapsed().as_secs_f64(),
    };
    let mut flagged: Vec<(f64, usize)> = Vec::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (i, _) in issues.iter().enumerate().filter(|(_, f)| **f) {
        let label = labels.get(i).copied().unwrap_or(0);
        let row = probabilities
            .get(i * classes.len()..(i + 1) * classes.len())
            .unwrap_or(&[]);
        let (likely, best) = row
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .map_or((0, 0.0), |(j, &b)| (j, b));
        let margin = best - row.get(label).copied().unwrap_or(0.0);
        flagged.push((margin, i));
        let name = |j: usize| classes.get(j).map_or("?", String::as_str);
        *counts
            .entry(format!("{} -> {}", name(label), name(likely)))
            .or_default() += 1;
    }
    if flagged.is_empty() {
        return Ok((None, info));
    }
    flagged.sort_by(|x, y| y.0.total_cmp(&x.0));
    let shown = flagged
        .iter()
        .take(SHOWN)
        .filter_map(|&(_, i)| rows.get(i).map(|r| r.1))
        .collect();
    let mut drop: Vec<u64> = flagged
        .iter()
        .filter_map(|&(_, i)| rows.get(i).map(|r| r.0))
        .collect();
    drop.sort_unstable();
    Ok((
        Some(Finding {
            kind: FindingKind::LabelIssue,
            rows: shown,
            count: flagged.len() as u64,
            labels: Vec::new(),
            drop,
            column: None,
            value: None,
            counts,
        }),
        info,
    ))
}
