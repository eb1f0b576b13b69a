//! One evaluation: read the model and the data, run the model on every
//! row, measure.

use crate::bootstrap::{Bootstrap, Estimate};
use crate::data::{self, Codes, Mapping, Table};
use crate::fairness;
use crate::metrics::{CalibrationBin, Classified, Regressed};
use crate::model::{Column, Model};
use crate::Error;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Decided by the model's outputs: integer labels or several scores
    /// per row make a classifier, one float per row a regressor.
    #[default]
    Auto,
    Classification,
    Regression,
}

/// An evaluation to make.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub model: PathBuf,
    pub data: PathBuf,
    /// Columns: features, the label (required), and the sensitive
    /// features (`groups`).
    pub mapping: Mapping,
    pub task: Task,
    /// The label values, in the order of the model's classes (its
    /// probability columns). Empty: the model's own integer class labels,
    /// or 0..k.
    pub classes: Vec<String>,
    /// Fairness's positive decision (a label value); default: the second
    /// class of a binary classifier.
    pub positive: Option<String>,
    /// The model's scores are logits: softmax them.
    pub logits: bool,
    pub bootstrap: Bootstrap,
    /// The privileged group for disparate impact: a value per sensitive
    /// feature.
    pub privileged: Vec<(String, String)>,
    /// Groups with fewer rows are reported as small.
    pub min_group: u64,
    /// The SHA-256 the data must have (the evaluation set's lock).
    pub data_sha256: Option<String>,
    pub reading: rampart_table::Options,
    /// Adversarial attacks to run (a classifier only).
    pub attacks: Option<crate::attack::Options>,
}

/// A file read, by its digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Artifact {
    pub path: PathBuf,
    pub sha256: String,
}

/// What an evaluation found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    pub model: Artifact,
    pub data: Artifact,
    pub rows: usize,
    /// Records of the data left unread (`--bad-input skip`): not
    /// evaluated, and admission refuses such evidence.
    pub skipped: u64,
    pub task: Task,
    pub features: Vec<String>,
    /// Label values in class order (classification).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    pub bootstrap: Bootstrap,
    pub metrics: Vec<Estimate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calibration: Vec<CalibrationBin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fairness: Option<fairness::Report>,
    /// One report per adversarial attack run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub robustness: Vec<crate::attack::Report>,
    /// Per row, what the model said (not serialised: `--predictions`
    /// writes it).
    #[serde(skip)]
    pub predictions: Option<Predictions>,
}

/// The model's outputs, per row, for writing out.
#[derive(Debug, Clone)]
pub enum Predictions {
    Classes {
        truth: Vec<u32>,
        predicted: Vec<u32>,
        /// rows × classes, or empty.
        proba: Vec<f64>,
        lines: Vec<u64>,
    },
    Values {
        truth: Vec<f64>,
        predicted: Vec<f64>,
        lines: Vec<u64>,
    },
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String, Error> {
    use sha2::Digest;
    let read = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(read)?;
    Ok(hex::encode(h.finalize()))
}

/// A model's outputs on every row, beside the truth.
#[derive(Debug, Clone)]
pub enum Scored {
    Classes(Classified),
    Values(Regressed),
}

impl Scored {
    /// Every metric of the task over the rows weighted by `w`.
    pub fn metrics(&self, w: &[u8]) -> Vec<(crate::Metric, Option<f64>)> {
        match self {
            Scored::Classes(c) => c.metrics(w),
            Scored::Values(r) => r.metrics(w),
        }
    }

    pub fn rows(&self) -> usize {
        match self {
            Scored::Classes(c) => c.rows(),
            Scored::Values(r) => r.rows(),
        }
    }

    pub fn task(&self) -> Task {
        match self {
            Scored::Classes(_) => Task::Classification,
            Scored::Values(_) => Task::Regression,
        }
    }

    /// The same outputs on some rows only (a slice).
    pub fn subset(&self, rows: &[u32]) -> Result<Scored, Error> {
        Ok(match self {
            Scored::Classes(c) => Scored::Classes(c.subset(rows)?),
            Scored::Values(r) => Scored::Values(r.subset(rows)?),
        })
    }
}

/// The evaluation data, read and checked against its lock.
pub(crate) fn read_data(o: &Options) -> Result<(Table, Artifact), Error> {
    if let Some(expected) = &o.data_sha256 {
        lock_digest(expected)?;
    }
    let sha256 = file_sha256(&o.data)?;
    if let Some(expected) = &o.data_sha256 {
        let want = lock_digest(expected)?;
        if want != sha256 {
            return Err(Error::Locked {
                path: o.data.clone(),
                expected: expected.clone(),
                actual: format!("sha256:{sha256}"),
            });
        }
    }
    if o.mapping.label.is_none() {
        return Err(no_label());
    }
    let table = data::read(&o.data, &o.mapping, &o.reading)?;
    let artifact = Artifact {
        path: o.data.clone(),
        sha256,
    };
    Ok((table, artifact))
}

/// The hex digest of a lock (`sha256:HEX`, any case, or bare hex); a
/// value that is not one is a usage error, not a substituted file.
pub fn lock_digest(lock: &str) -> Result<String, Error> {
    let t = lock.trim();
    let hex = if t.len() > 7
        && t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("sha256:"))
    {
        t.get(7..).unwrap_or_default()
    } else {
        t
    };
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(Error::Data(format!(
            "the evaluation data's lock {lock:?} is not a SHA-256 digest: write sha256: followed by the 64 hex digits sha256sum prints"
        )))
    }
}

/// A model, read from its file.
pub(crate) fn load_model(path: &Path) -> Result<Model, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Model::load(&bytes).map_err(|e| match e {
        Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
        e => e,
    })
}

/// Runs `model` on every row of `table`: its outputs beside the truth,
/// and the label value of each class.
pub(crate) fn score(
    o: &Options,
    path: &Path,
    model: &Model,
    table: &Table,
) -> Result<(Scored, Vec<String>), Error> {
    if table.features.len() != model.features() {
        return Err(Error::Data(format!(
            "{}: {} feature columns ({}), but the input {} of {} takes {}; name them in the model's order with --features",
            o.data.display(),
            table.features.len(),
            table.features.join(", "),
            model.input_name(),
            path.display(),
            model.features()
        )));
    }
    let outputs = model.predict(&table.x)?;
    match task(o.task, &outputs, table.rows) {
        Task::Regression => Ok((
            Scored::Values(regression(o, model, &outputs, table)?),
            Vec::new(),
        )),
        _ => {
            let (c, classes) = classification(o, model, &outputs, table)?;
            Ok((Scored::Classes(c), classes))
        }
    }
}

/// Evaluates the model on the data.
pub fn evaluate(o: &Options) -> Result<Evaluation, Error> {
    let (table, data) = read_data(o)?;
    let model = load_model(&o.model)?;
    let (scored, classes) = score(o, &o.model, &model, &table)?;
    let mut e = Evaluation {
        model: Artifact {
            path: o.model.clone(),
            sha256: model.sha256.clone(),
        },
        data,
        rows: table.rows,
        skipped: table.skipped,
        task: scored.task(),
        features: table.features.clone(),
        classes,
        bootstrap: o.bootstrap,
        metrics: o.bootstrap.estimate(scored.rows(), |w| scored.metrics(w)),
        calibration: Vec::new(),
        fairness: None,
        robustness: Vec::new(),
        predictions: None,
    };
    if let Some(a) = &o.attacks {
        e.robustness = attacks(o, a, &model, &scored, &e.classes, &table)?;
    }
    let lines = table.lines.clone();
    match &scored {
        Scored::Classes(c) => {
            if c.has_probabilities() {
                e.calibration = c.calibration();
            }
            if !o.mapping.groups.is_empty() {
                e.fairness = Some(fair(o, c, &e.classes, &table)?);
            }
            let k = c.classes();
            let proba = if c.has_probabilities() {
                (0..c.rows())
                    .flat_map(|i| (0..k).map(move |j| (i, j)))
                    .map(|(i, j)| c.probability(i, j))
                    .collect()
            } else {
                Vec::new()
            };
            e.predictions = Some(Predictions::Classes {
                truth: c.truth().to_vec(),
                predicted: c.predicted().to_vec(),
                proba,
                lines,
            });
        }
        Scored::Values(r) => {
            e.predictions = Some(Predictions::Values {
                truth: r.truth().to_vec(),
                predicted: r.predicted().to_vec(),
                lines,
            });
        }
    }
    Ok(e)
}

/// The attacks of `a` on the rows the model classifies correctly.
fn attacks(
    o: &Options,
    a: &crate::attack::Options,
    model: &Model,
    scored: &Scored,
    classes: &[String],
    table: &Table,
) -> Result<Vec<crate::attack::Report>, Error> {
    let Scored::Classes(c) = scored else {
        return Err(Error::Data(format!(
            "{}: adversarial attacks are for classifiers, and this model is a regressor",
            o.model.display()
        )));
    };
    let inputs = crate::attack::Inputs {
        x: &table.x,
        features: &table.features,
        truth: c.truth(),
        predicted: c.predicted(),
        classes,
        lines: &table.lines,
        shape: model.item_shape(),
    };
    crate::attack::run(model, o.logits, &inputs, a)
}

/// The task the options name, or the model's outputs say.
fn task(asked: Task, outputs: &[Column], rows: usize) -> Task {
    if asked != Task::Auto {
        return asked;
    }
    let labels = outputs.iter().any(|c| matches!(c, Column::Int(_)));
    let wide = outputs
        .iter()
        .any(|c| matches!(c, Column::Float(v) if v.len() > rows));
    if labels || wide {
        Task::Classification
    } else {
        Task::Regression
    }
}

fn regression(
    o: &Options,
    model: &Model,
    outputs: &[Column],
    table: &Table,
) -> Result<Regressed, Error> {
    let predicted = outputs
        .iter()
        .find_map(|c| match c {
            Column::Float(v) if v.len() == table.rows => Some(v.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::Model(format!(
                "no output gives one number per row ({}): not a regressor",
                names(model)
            ))
        })?;
    let label = table.label.as_ref().ok_or_else(no_label)?;
    let mut truth = Vec::with_capacity(table.rows);
    for row in 0..table.rows {
        let text = label.value(row).unwrap_or_default();
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => truth.push(v),
            _ => {
                let line = table.lines.get(row).copied().unwrap_or(0);
                return Err(Error::Data(format!(
                    "{}: line {line}: the label {text:?} is not a number (a regressor's truth)",
                    o.data.display()
                )));
            }
        }
    }
    Ok(Regressed::new(truth, predicted)?)
}

fn no_label() -> Error {
    Error::Data("no label column: name the column of the truth (--label)".into())
}

fn names(model: &Model) -> String {
    model
        .outputs()
        .iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn classification(
    o: &Options,
    model: &Model,
    outputs: &[Column],
    table: &Table,
) -> Result<(Classified, Vec<String>), Error> {
    let rows = table.rows;
    let scores = outputs.iter().find_map(|c| match c {
        Column::Float(v) if v.len() > rows => Some(v),
        _ => None,
    });
    let labels = outputs.iter().find_map(|c| match c {
        Column::Int(v) if v.len() == rows => Some(v),
        _ => None,
    });
    let width = scores.map(|s| s.len() / rows);
    let declared = model.class_labels().map(<[i64]>::to_vec);
    let k = width
        .or(declared.as_ref().map(Vec::len))
        .or((!o.classes.is_empty()).then_some(o.classes.len()))
        .ok_or_else(|| {
            Error::Model(format!(
                "cannot tell the number of classes: the model gives no scores ({}); name the classes with --classes",
                names(model)
            ))
        })?;
    let classes = class_names(o, declared.as_deref(), k)?;
    let proba = match scores {
        Some(s) => probabilities(s, k, o.logits, &o.model)?,
        None => Vec::new(),
    };
    let label = table.label.as_ref().ok_or_else(no_label)?;
    let truth = truth_of(label, &classes, table, &o.data)?;
    let predicted = match labels {
        Some(l) => predicted_of(l, declared.as_deref(), k)?,
        None => argmax(&proba, k),
    };
    Ok((Classified::new(truth, predicted, proba, k)?, classes))
}

/// The label value of each class, in the model's class order.
fn class_names(o: &Options, declared: Option<&[i64]>, k: usize) -> Result<Vec<String>, Error> {
    if !o.classes.is_empty() {
        if o.classes.len() != k {
            return Err(Error::Data(format!(
                "--classes names {} classes, but the model scores {k}",
                o.classes.len()
            )));
        }
        return Ok(o.classes.clone());
    }
    Ok(match declared {
        Some(d) if d.len() == k => d.iter().map(i64::to_string).collect(),
        _ => (0..k).map(|c| c.to_string()).collect(),
    })
}

fn truth_of(
    label: &Codes,
    classes: &[String],
    table: &Table,
    data: &Path,
) -> Result<Vec<u32>, Error> {
    let index: Vec<Option<u32>> = label
        .values
        .iter()
        .map(|v| classes.iter().position(|c| c == v.trim()).map(|p| p as u32))
        .collect();
    let mut truth = Vec::with_capacity(table.rows);
    for (row, &code) in label.of_row.iter().enumerate() {
        match index.get(code as usize).copied().flatten() {
            Some(c) => truth.push(c),
            None => {
                let line = table.lines.get(row).copied().unwrap_or(0);
                let value = label.value(row).unwrap_or_default();
                return Err(Error::Data(format!(
                    "{}: line {line}: the label {value:?} is not one of the model's classes ({}); map the label values to the classes in order with --classes",
                    data.display(),
                    classes.join(", ")
                )));
            }
        }
    }
    Ok(truth)
}

/// The model's label output as class indices (its declared labels'
/// positions, or the values themselves).
pub(crate) fn predicted_of(
    labels: &[i64],
    declared: Option<&[i64]>,
    k: usize,
) -> Result<Vec<u32>, Error> {
    labels
        .iter()
        .enumerate()
        .map(|(row, &l)| {
            let idx = match declared {
                Some(d) => d.iter().position(|&c| c == l),
                None => usize::try_from(l).ok().filter(|&i| i < k),
            };
            idx.map(|i| i as u32).ok_or_else(|| {
                Error::Model(format!(
                    "row {row}: the model's label {l} is not one of its {k} classes"
                ))
            })
        })
        .collect()
}

pub(crate) fn argmax(proba: &[f64], k: usize) -> Vec<u32> {
    proba
        .chunks(k.max(1))
        .map(|row| {
            let mut best = 0;
            for (j, &p) in row.iter().enumerate() {
                if p > row.get(best).copied().unwrap_or(f64::NEG_INFINITY) {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

/// Rows of k logits as probabilities.
pub(crate) fn softmax(s: &[f64], k: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(s.len());
    for row in s.chunks(k.max(1)) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        out.extend(exp.iter().map(|v| v / sum));
    }
    out
}

/// Scores as probabilities: rows of k values within 0 and 1 that sum to
/// 1 (to 1e-3, the f32 rounding of exporters), or logits to softmax.
/// How far outside [0, 1] a probability may be: a forest's average of
/// `f32` leaf values is off by a few units in the last place per tree
/// (onnxruntime's too; 1.0000004 for 30 trees was seen).
const ROUNDING: f64 = 1e-4;

/// Whether a row's scores are probabilities, up to `f32` rounding.
fn is_distribution(values: &[f64]) -> bool {
    let sum: f64 = values.iter().sum();
    values
        .iter()
        .all(|v| (-ROUNDING..=1.0 + ROUNDING).contains(v))
        && (sum - 1.0).abs() <= 1e-3
}

fn probabilities(s: &[f64], k: usize, logits: bool, model: &Path) -> Result<Vec<f64>, Error> {
    let rows = || s.chunks(k.max(1));
    if logits {
        // Softmax of probabilities gives numbers, wrong ones: refuse.
        if rows().all(is_distribution) {
            return Err(Error::Model(format!(
                "{}: --logits, but every row's scores are already probabilities (each in [0, 1], summing to 1); softmax would distort them: leave --logits out",
                model.display()
            )));
        }
        return Ok(softmax(s, k));
    }
    if let Some((row, values)) = rows().enumerate().find(|(_, v)| !is_distribution(v)) {
        let sum: f64 = values.iter().sum();
        return Err(Error::Model(format!(
            "{}: row {row}'s scores {values:?} are not probabilities (they sum to {sum}); if the model gives logits, pass --logits to apply softmax",
            model.display()
        )));
    }
    // Rounding past 0 or 1 is taken back.
    Ok(s.iter().map(|v| v.clamp(0.0, 1.0)).collect())
}

fn fair(
    o: &Options,
    c: &Classified,
    classes: &[String],
    table: &Table,
) -> Result<fairness::Report, Error> {
    let positive = match &o.positive {
        Some(p) => classes.iter().position(|c| c == p).ok_or_else(|| {
            Error::Data(format!(
                "--positive {p:?} is not one of the classes ({})",
                classes.join(", ")
            ))
        })?,
        None if classes.len() == 2 => 1,
        None => {
            return Err(Error::Data(format!(
                "fairness needs the positive decision of a {}-class model: name it with --positive",
                classes.len()
            )))
        }
    } as u32;
    let truth: Vec<bool> = c.truth().iter().map(|&t| t == positive).collect();
    let predicted: Vec<bool> = c.predicted().iter().map(|&p| p == positive).collect();
    let features: Vec<String> = o.mapping.groups.clone();
    if o.mapping
        .label
        .as_ref()
        .is_some_and(|l| features.contains(l))
    {
        return Err(Error::Data(
            "the label column cannot also be a sensitive feature".into(),
        ));
    }
    let codes: Vec<&Codes> = features
        .iter()
        .filter_map(|f| table.groups.iter().find(|g| &g.name == f))
        .collect();
    // An empty value is a missing one, not a group of its own.
    for c in &codes {
        if let Some(row) = c.of_row.iter().position(|&v| {
            c.values
                .get(v as usize)
                .is_some_and(|s| s.trim().is_empty())
        }) {
            let line = table.lines.get(row).copied().unwrap_or(0);
            return Err(Error::Data(format!(
                "{}: line {line} has no value for the sensitive feature {:?}: fill it in, or leave the row out of the evaluation set",
                o.data.display(),
                c.name
            )));
        }
    }
    let groups = fairness::Groups::of(
        features.clone(),
        (0..table.rows).map(|row| {
            codes
                .iter()
                .map(|g| g.value(row).unwrap_or_default().to_string())
                .collect()
        }),
    );
    let privileged = if o.privileged.is_empty() {
        None
    } else {
        let want: Vec<String> = features
            .iter()
            .map(|f| {
                o.privileged
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        Error::Data(format!(
                            "--privileged names no value for the sensitive feature {f:?}"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let found = groups.values.iter().position(|v| *v == want);
        Some(found.ok_or_else(|| {
            Error::Data(format!(
                "--privileged {}: no row is in that group",
                fairness::label(&features, &want)
            ))
        })? as u32)
    };
    let mut report = fairness::assess(&truth, &predicted, &groups, privileged, o.min_group);
    report.positive = classes.get(positive as usize).cloned().unwrap_or_default();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_probabilities_up_to_f32_rounding_and_logits_are_not() {
        let m = Path::new("m.onnx");
        // A 30-tree forest's row, as Rampart and onnxruntime add it.
        let p = probabilities(
            &[1.000_000_357_6, 0.0, 0.0, -1.19e-7, 1.000_000_1, 0.0],
            3,
            false,
            m,
        )
        .unwrap();
        assert_eq!(p, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        let e = probabilities(&[2.0, -1.0], 2, false, m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pass --logits"), "{e}");
        let e = probabilities(&[0.25, 0.75], 2, true, m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("already probabilities"), "{e}");
        let p = probabilities(&[2.0, -1.0], 2, true, m).unwrap();
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12 && p[0] > 0.9);
    }
}
