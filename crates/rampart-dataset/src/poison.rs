//! Rows to drop before training: exact and near duplicates, conflicting
//! labels, leaks from a training set, class imbalance and
//! under-represented groups, label shift, backdoor triggers, Isolation
//! Forest outliers and label errors by confident learning. One pass for
//! the row checks (and one per training or reference set), a second for
//! trigger rows, more for the outlier and label models.

use crate::error::{invalid, Error};
use crate::watch::step;
use crate::{detect, require_columns, Reading, Watch};
use rampart_profile::duplicates::{Finding, FindingKind, Row};
use rampart_table::{Cell, Visitor};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which checks to run, and their settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The label column: left out of the row comparison, compared within
    /// groups of duplicates.
    pub label: Option<String>,
    /// A training set: rows also in it are leaks.
    pub leak_from: Option<PathBuf>,
    /// Near duplicates at this Jaccard similarity (0 to 1).
    pub near: Option<f64>,
    /// A clean dataset of the same kind, for label shift.
    pub reference: Option<PathBuf>,
    pub max_label_shift: f64,
    /// Columns that name groups, for under-represented values.
    pub groups: Vec<String>,
    /// The smallest share a label or group value should have.
    pub min_share: f64,
    pub outliers: Option<Outliers>,
    pub label_issues: Option<LabelIssues>,
}

/// Isolation Forest settings.
#[derive(Debug, Clone)]
pub struct Outliers {
    /// Rows scoring at least this are outliers (0 to 1).
    pub threshold: f64,
    pub trees: usize,
    pub seed: u64,
    /// Where to write every row's score (CSV), if anywhere.
    pub scores: Option<PathBuf>,
}

/// Confident-learning settings.
#[derive(Debug, Clone)]
pub struct LabelIssues {
    /// Out-of-fold probabilities to use instead of the built-in model.
    pub pred_probs: Option<PathBuf>,
    pub folds: usize,
    pub seed: u64,
}

/// What the outlier forest was built from.
#[derive(Debug, Clone, Serialize)]
pub struct ForestInfo {
    pub features: Vec<FeatureInfo>,
    pub left_out: Vec<String>,
    pub threshold: f64,
    pub trees: usize,
    pub seed: u64,
    pub seconds_to_fit_and_score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureInfo {
    pub column: String,
    #[serde(rename = "as")]
    pub encoding: String,
}

/// What the label-issue probabilities came from.
#[derive(Debug, Clone, Serialize)]
pub struct LabelModelInfo {
    pub model: String,
    pub classes: Vec<String>,
    pub seconds: f64,
}

/// What the checks found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rows: u64,
    /// Records left out under `bad_input = "skip"`.
    pub skipped: u64,
    /// Some lists were cut short (too many repeats, or a near-duplicate
    /// group too big to list): a filter must refuse the report.
    pub truncated: bool,
    pub findings: Vec<Finding>,
    pub outliers: Option<ForestInfo>,
    pub label_issues: Option<LabelModelInfo>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings for people, a line each, with what the models were
    /// built from and a summary line.
    pub fn text(&self, path: &Path, min_share: f64) -> String {
        use std::fmt::Write;
        let parquet = rampart_table::detect(path)
            .is_ok_and(|s| matches!(s.format, rampart_table::Format::Parquet));
        let place = if parquet { "rows" } else { "lines" };
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "{}", finding_line(f, self.rows, min_share, place));
        }
        if let Some(info) = &self.label_issues {
            let _ = writeln!(out, "label issues: {}", info.model);
        }
        if let Some(info) = &self.outliers {
            let _ = writeln!(
                out,
                "outliers: isolation forest over {} columns{}, threshold {}",
                info.features.len(),
                if info.left_out.is_empty() {
                    String::new()
                } else {
                    format!(" (left out: {})", info.left_out.join(", "))
                },
                info.threshold
            );
        }
        let n = self.findings.len();
        let _ = writeln!(
            out,
            "{}: {} rows, {n} finding{}{}",
            path.display(),
            self.rows,
            if n == 1 { "" } else { "s" },
            crate::skipped_note(self.skipped)
        );
        out
    }

    /// Rows by kind of finding.
    pub fn rows_by_kind(&self) -> BTreeMap<FindingKind, u64> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.kind).or_default() += f.count;
        }
        counts
    }

    /// The attestation's details.
    pub fn details(&self, label: Option<&str>) -> serde_json::Value {
        serde_json::json!({"passed": self.passed(), "rows": self.rows, "skipped": self.skipped, "rows_by_kind": self.rows_by_kind(), "label": label})
    }
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

/// Assembles rows from values and hands each complete row on.
struct RowVisitor<F: FnMut(&Row)> {
    row: Row,
    done: F,
}

impl<F: FnMut(&Row)> RowVisitor<F> {
    fn flush(&mut self) {
        if self.row.record > 0 {
            (self.done)(&self.row);
        }
    }
}

impl<F: FnMut(&Row)> Visitor for RowVisitor<F> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if cell.record != self.row.record {
            self.flush();
            self.row = Row::new(cell.record, cell.line);
        }
        self.row.set(cell.column, cell.value);
        None
    }
}

/// Shows every row of `path` to `done`; returns the reading's summary.
fn each_row(
    path: &Path,
    reading: &Reading,
    watch: &dyn Watch,
    done: impl FnMut(&Row),
) -> Result<rampart_table::Summary, Error> {
    let source = detect(path)?;
    let mut v = RowVisitor {
        row: Default::default(),
        done,
    };
    let message = format!("reading {}", source.path.display());
    let summary = reading.process(&source, &mut v, watch, &message)?;
    v.flush();
    Ok(summary)
}

/// Runs every check `o` asks for on `path`.
pub fn check(
    path: &Path,
    o: &Options,
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<Report, Error> {
    use rampart_profile::{balance::Balance, duplicates::Duplicates, near::NearDuplicates};
    let mut d = Duplicates::new(o.label.clone());
    if let Some(t) = o.near.filter(|t| !(0.0..=1.0).contains(t)) {
        invalid!("--near {t}: a similarity is between 0 and 1 (0.8 finds rows sharing about four fifths of their values and words)");
    }
    let mut near = o.near.map(|t| NearDuplicates::new(o.label.clone(), t));
    let mut train_columns = None;
    if let Some(train) = &o.leak_from {
        train_columns = Some(
            each_row(train, reading, watch, |r| {
                d.add_reference(r);
                if let Some(n) = near.as_mut() {
                    n.add_reference(r);
                }
            })?
            .columns,
        );
    }
    let mut balance = Balance::new(o.label.clone(), o.groups.clone());
    let mut triggers = o
        .label
        .clone()
        .map(rampart_profile::triggers::Triggers::new);
    let read = each_row(path, reading, watch, |r| {
        let seen = d.add(r);
        if let Some(n) = near.as_mut() {
            n.add(r, seen);
        }
        balance.add(r);
        if let Some(t) = triggers.as_mut() {
            t.add(r);
        }
    })?;
    if let (Some(train), Some(columns)) = (&o.leak_from, &train_columns) {
        if !columns.iter().any(|c| read.columns.contains(c)) {
            invalid!(
                "--leak-from {}: it shares no column with {}, so no row of one can be found in the other; give the training set of this data",
                train.display(),
                path.display()
            );
        }
    }
    require_columns(
        path,
        &read.columns,
        o.label
            .iter()
            .map(|l| ("--label", l.as_str()))
            .chain(o.groups.iter().map(|g| ("--groups", g.as_str()))),
    )?;
    let mut findings = d.findings();
    if let Some(n) = near.as_mut() {
        findings.extend(n.findings());
    }
    findings.extend(balance.findings(o.min_share));
    if let Some(t) = &triggers {
        let mut found = t.findings(rampart_profile::triggers::Thresholds::default());
        if !found.is_empty() {
            // A second pass names the trigger's rows.
            let mut rows = rampart_profile::triggers::TriggerRows::new(&mut found);
            each_row(path, reading, watch, |r| rows.add(r))?;
            findings.extend(found);
        }
    }
    if let Some(reference) = &o.reference {
        let mut before = Balance::new(o.label.clone(), Vec::new());
        let columns = each_row(reference, reading, watch, |r| before.add(r))?.columns;
        require_columns(
            reference,
            &columns,
            o.label.iter().map(|l| ("--label", l.as_str())),
        )?;
        findings.extend(balance.label_shift(&before, o.max_label_shift));
    }
    let (mut forest, mut label_model, mut warnings) = (None, None, Vec::new());
    if o.outliers.is_some() || o.label_issues.is_some() {
        let (features, w) = read_features(path, o, reading, watch)?;
        warnings = w;
        // Label issues borrow the features; the forest then takes them.
        let labelled = o
            .label_issues
            .as_ref()
            .map(|l| {
                crate::labels::label_issues(path, o.label.as_deref(), l, reading, &features, watch)
            })
            .transpose()?;
        if let Some(settings) = &o.outliers {
            let (finding, info) = outliers(settings, features, watch)?;
            findings.extend(finding);
            forest = Some(info);
        }
        if let Some((finding, info)) = labelled {
            findings.extend(finding);
            label_model = Some(info);
        }
    }
    let truncated = d.truncated || near.as_ref().is_some_and(|n| n.truncated);
    Ok(Report {
        rows: read.records,
        skipped: read.skipped,
        findings,
        truncated,
        outliers: forest,
        label_issues: label_model,
        warnings,
    })
}

/// Columns as features: numbers, or categories of at most this many
/// values (and repeating: at most one distinct value per two rows);
/// other columns (ids, free text) isolate every row and are left out.
const MAX_CATEGORY_VALUES: u64 = 1_000;

/// A dataset's rows as features, and their labels when label errors are
/// looked for: what the outlier and label checks share, read once.
pub(crate) struct Features {
    pub plan: Vec<(String, rampart_profile::outliers::Encoding)>,
    pub left_out: Vec<String>,
    pub builder: rampart_profile::outliers::FeatureBuilder,
    /// Each row's label (None where null); empty unless asked for.
    pub labels: Vec<Option<String>>,
}

/// Feeds a dataset's values to a feature builder, row by row, keeping
/// each row's `label` value when one is named.
struct FeatureVisitor<'a> {
    features: &'a mut Features,
    label: Option<&'a str>,
    record: u64,
}

impl Visitor for FeatureVisitor<'_> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let f = &mut *self.features;
        if cell.record != self.record {
            self.record = cell.record;
            f.builder.start_row(cell.record, cell.line);
            if self.label.is_some() {
                f.labels.push(None);
            }
        }
        if Some(cell.column) == self.label {
            let (kind, _) = rampart_profile::classify(cell.value);
            if let (Some(l), false) = (f.labels.last_mut(), kind == rampart_profile::Kind::Null) {
                *l = Some(cell.value.trim().to_string());
            }
        } else {
            f.builder.set(cell.column, cell.value);
        }
        None
    }
}

/// Reads the features the checks `o` asks for need, in one pass: columns
/// typed and planned for outliers and the built-in label model, and the
/// labels for label issues. Returns the warnings of the typing pass.
fn read_features(
    path: &Path,
    o: &Options,
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<(Features, Vec<String>), Error> {
    let labels = o.label_issues.is_some();
    let model = o
        .label_issues
        .as_ref()
        .is_some_and(|l| l.pred_probs.is_none());
    let (plan, left_out, warnings) = if o.outliers.is_some() || model {
        let purpose = match (o.outliers.is_some(), model) {
            (true, true) => "outliers and label issues",
            (true, false) => "outliers",
            _ => "label issues",
        };
        feature_plan(path, o.label.as_ref(), reading, purpose, watch)?
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let mut features = Features {
        builder: rampart_profile::outliers::FeatureBuilder::new(&plan),
        plan,
        left_out,
        labels: Vec::new(),
    };
    let mut v = FeatureVisitor {
        features: &mut features,
        label: o.label.as_deref().filter(|_| labels),
        record: 0,
    };
    rampart_table::process(&detect(path)?, &reading.options(None), &mut v, None)?;
    Ok((features, warnings))
}

/// A plan of features: each column and how it is encoded.
type Plan = Vec<(String, rampart_profile::outliers::Encoding)>;

/// Which columns of a dataset become features, and how (numbers as they
/// are, repeating categories of at most [`MAX_CATEGORY_VALUES`] values),
/// leaving out the label and columns that cannot be features (ids, free
/// text); the second list names those.
fn feature_plan(
    path: &Path,
    label: Option<&String>,
    reading: &Reading,
    purpose: &str,
    watch: &dyn Watch,
) -> Result<(Plan, Vec<String>, Vec<String>), Error> {
    use rampart_profile::outliers::Encoding;
    let mut profiled = crate::profile::columns_of(path, reading, watch)?;
    let rows = profiled.profile.rows;
    let mut plan = Vec::new();
    let mut left_out = Vec::new();
    for c in &mut profiled.profile.columns {
        if Some(&c.name) == label {
            continue;
        }
        let encoding = match c.type_name() {
            "integer" | "float" => Some(Encoding::Number),
            // A category repeats: a column of mostly distinct values is
            // an id or free text.
            _ if c.distinct_count() <= MAX_CATEGORY_VALUES
                && c.distinct_count().saturating_mul(2) <= rows =>
            {
                Some(Encoding::Category)
            }
            _ => None,
        };
        match encoding {
            Some(e) => plan.push((c.name.clone(), e)),
            None => left_out.push(c.name.clone()),
        }
    }
    if plan.is_empty() {
        invalid!(
            "{}: no column can be a feature for {purpose} (numbers, or at most {MAX_CATEGORY_VALUES} distinct values)",
            path.display()
        );
    }
    Ok((plan, left_out, profiled.warnings))
}

/// Isolation Forest outliers of the features, as one finding, and what
/// the forest was built from.
fn outliers(
    o: &Outliers,
    features: Features,
    watch: &dyn Watch,
) -> Result<(Option<Finding>, ForestInfo), Error> {
    use rampart_profile::outliers::{Forest, Settings};
    let Features {
        plan,
        left_out,
        builder,
        ..
    } = features;
    let (matrix, rows) = builder.finish();
    let settings = Settings {
        trees: o.trees,
        seed: o.seed,
        ..Settings::default()
    };
    let started = std::time::Instant::now();
    let scores = step(
        watch,
        &format!("isolation forest over {} rows", rows.len()),
        || Forest::fit(&matrix, settings).score_all(&matrix),
    );
    let info = ForestInfo {
        features: plan
            .iter()
            .map(|(name, e)| FeatureInfo {
                column: name.clone(),
                encoding: format!("{e:?}").to_lowercase(),
            })
            .collect(),
        left_out,
        threshold: o.threshold,
        trees: settings.trees,
        seed: o.seed,
        seconds_to_fit_and_score: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = &o.scores {
        write_scores(path, &rows, &scores).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    let mut flagged: Vec<(f64, u64, u64)> = rows
        .iter()
        .zip(&scores)
        .filter(|(_, s)| **s >= o.threshold)
        .map(|((record, line), s)| (*s, *record, *line))
        .collect();
    if flagged.is_empty() {
        return Ok((None, info));
    }
    // Highest scores first among the lines shown; records in file order.
    flagged.sort_by(|x, y| y.0.total_cmp(&x.0));
    let shown = flagged.iter().take(20).map(|f| f.2).collect();
    let mut drop: Vec<u64> = flagged.iter().map(|f| f.1).collect();
    drop.sort_unstable();
    let finding = Finding {
        kind: FindingKind::Outlier,
        rows: shown,
        count: flagged.len() as u64,
        labels: Vec::new(),
        drop,
        column: None,
        value: None,
        counts: BTreeMap::new(),
    };
    Ok((Some(finding), info))
}

/// Every row's score as CSV, written atomically.
fn write_scores(path: &Path, rows: &[(u64, u64)], scores: &[f64]) -> std::io::Result<()> {
    rampart_core::write_atomic_with(path, |w| {
        w.write_all(b"record,line,score\n")?;
        for ((record, line), score) in rows.iter().zip(scores) {
            writeln!(w, "{record},{line},{score}")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            label: Some("y".into()),
            leak_from: None,
            near: None,
            reference: None,
            max_label_shift: 0.1,
            groups: Vec::new(),
            min_share: 0.0,
            outliers: None,
            label_issues: None,
        }
    }

    #[test]
    fn duplicates_conflicts_and_outliers_are_found_with_their_rows() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("d.csv");
        let mut text = String::from("x,y\n");
        for i in 0..40 {
            text.push_str(&format!("{},a\n", i % 10));
        }
        text.push_str("7,b\n500,a\n");
        std::fs::write(&p, text).unwrap();
        let scores = d.path().join("scores.csv");
        let o = Options {
            outliers: Some(Outliers {
                threshold: 0.65,
                trees: 50,
                seed: 1,
                scores: Some(scores.clone()),
            }),
            ..options()
        };
        let r = check(&p, &o, &Reading::default(), &crate::Quiet).unwrap();
        assert_eq!(r.rows, 42);
        let kinds = r.rows_by_kind();
        assert!(
            kinds.contains_key(&FindingKind::ConflictingLabels),
            "{kinds:?}"
        );
        assert!(kinds.contains_key(&FindingKind::Duplicate), "{kinds:?}");
        let outlier = r
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::Outlier)
            .expect("the row of 500 isolates");
        assert!(outlier.drop.contains(&42), "{outlier:?}");
        let written = std::fs::read_to_string(&scores).unwrap();
        assert_eq!(written.lines().count(), 43);
        assert_eq!(r.outliers.as_ref().unwrap().features.len(), 1);
        assert!(!r.passed());
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("d.csv");
        std::fs::write(&p, "x,y\n1,a\n").unwrap();
        let near = Options {
            near: Some(1.5),
            ..options()
        };
        let e = check(&p, &near, &Reading::default(), &crate::Quiet).unwrap_err();
        assert!(e.to_string().contains("--near 1.5"), "{e}");
        let label = Options {
            label: Some("z".into()),
            ..options()
        };
        let e = check(&p, &label, &Reading::default(), &crate::Quiet).unwrap_err();
        assert!(e.to_string().contains("--label \"z\""), "{e}");
    }
}
