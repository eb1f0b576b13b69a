//! Quality metrics, defined as scikit-learn defines them, over rows that
//! each carry a weight: 1 for the point estimate, a bootstrap count for a
//! resample. One weighted pass serves both, so a resample costs a linear
//! pass (the rows are sorted by score once, not once per resample).

use serde::{Deserialize, Serialize};

/// A metric's name, as reports, policies and `--min`/`--max` flags
/// spell it (scikit-learn's names where it has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Accuracy,
    BalancedAccuracy,
    PrecisionMacro,
    RecallMacro,
    F1Macro,
    PrecisionWeighted,
    RecallWeighted,
    F1Weighted,
    /// Binary: of the second class's probability. Multiclass: the mean
    /// of one-vs-rest AUCs (`multi_class="ovr"`, `average="macro"`).
    RocAuc,
    /// The area under the precision-recall curve as `average_precision_score`
    /// computes it (no interpolation); macro over classes when multiclass.
    AveragePrecision,
    LogLoss,
    /// Binary: mean squared error of the second class's probability.
    /// Multiclass: summed over the classes (`brier_score_loss`'s
    /// definitions for each).
    BrierScore,
    /// Ten equal-width bins of the predicted class's probability: the
    /// weighted mean gap between accuracy and confidence (Guo et al. 2017).
    ExpectedCalibrationError,
    MeanAbsoluteError,
    RootMeanSquaredError,
    R2,
}

pub const CLASSIFICATION: &[Metric] = &[
    Metric::Accuracy,
    Metric::BalancedAccuracy,
    Metric::PrecisionMacro,
    Metric::RecallMacro,
    Metric::F1Macro,
    Metric::PrecisionWeighted,
    Metric::RecallWeighted,
    Metric::F1Weighted,
    Metric::RocAuc,
    Metric::AveragePrecision,
    Metric::LogLoss,
    Metric::BrierScore,
    Metric::ExpectedCalibrationError,
];

pub const REGRESSION: &[Metric] = &[
    Metric::MeanAbsoluteError,
    Metric::RootMeanSquaredError,
    Metric::R2,
];

/// Bins of the expected calibration error.
pub const CALIBRATION_BINS: usize = 10;

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::PrecisionMacro => "precision_macro",
            Metric::RecallMacro => "recall_macro",
            Metric::F1Macro => "f1_macro",
            Metric::PrecisionWeighted => "precision_weighted",
            Metric::RecallWeighted => "recall_weighted",
            Metric::F1Weighted => "f1_weighted",
            Metric::RocAuc => "roc_auc",
            Metric::AveragePrecision => "average_precision",
            Metric::LogLoss => "log_loss",
            Metric::BrierScore => "brier_score",
            Metric::ExpectedCalibrationError => "expected_calibration_error",
            Metric::MeanAbsoluteError => "mean_absolute_error",
            Metric::RootMeanSquaredError => "root_mean_squared_error",
            Metric::R2 => "r2",
        }
    }

    /// Every metric, for parsing and listing.
    pub fn all() -> impl Iterator<Item = Metric> {
        CLASSIFICATION.iter().chain(REGRESSION).copied()
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::all().find(|m| m.name() == name)
    }

    /// Whether a larger value is a better model (accuracy), or a worse
    /// one (log loss, errors).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::LogLoss
                | Metric::BrierScore
                | Metric::ExpectedCalibrationError
                | Metric::MeanAbsoluteError
                | Metric::RootMeanSquaredError
        )
    }

    /// Whether the metric needs the model's probabilities.
    pub fn needs_probabilities(self) -> bool {
        matches!(
            self,
            Metric::RocAuc
                | Metric::AveragePrecision
                | Metric::LogLoss
                | Metric::BrierScore
                | Metric::ExpectedCalibrationError
        )
    }
}

/// A classifier's outputs beside the truth, checked: every class index
/// is below `classes`, and `proba` is empty or `rows × classes`.
#[derive(Debug, Clone)]
pub struct Classified {
    truth: Vec<u32>,
    predicted: Vec<u32>,
    proba: Vec<f64>,
    classes: usize,
    /// Per scored class (the second for binary, each for multiclass):
    /// row numbers by descending probability.
    order: Vec<Vec<u32>>,
}

/// A regressor's outputs beside the truth.
#[derive(Debug, Clone)]
pub struct Regressed {
    truth: Vec<f64>,
    predicted: Vec<f64>,
}

/// Outputs that metrics cannot be computed on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("{what} has {got} rows, the truth has {rows}")]
    Length {
        what: &'static str,
        got: usize,
        rows: usize,
    },
    #[error("row {row}: class {class} is not one of the {classes} classes")]
    Class {
        row: usize,
        class: u32,
        classes: usize,
    },
    #[error("row {row}: probability {value} is not within 0 and 1")]
    Probability { row: usize, value: f64 },
    #[error("row {row}: {what} is {value}, not a finite number")]
    NotFinite {
        row: usize,
        what: &'static str,
        value: f64,
    },
    #[error("a classifier needs at least two classes, and at most 2^31")]
    Classes,
    #[error("no rows to evaluate")]
    Empty,
}

impl Classified {
    pub fn new(
        truth: Vec<u32>,
        predicted: Vec<u32>,
        proba: Vec<f64>,
        classes: usize,
    ) -> Result<Classified, Invalid> {
        let rows = truth.len();
        if rows == 0 {
            return Err(Invalid::Empty);
        }
        if !(2..=1 << 31).contains(&classes) || rows > u32::MAX as usize {
            return Err(Invalid::Classes);
        }
        if predicted.len() != rows {
            let got = predicted.len();
            return Err(Invalid::Length {
                what: "the predictions",
                got,
                rows,
            });
        }
        if !proba.is_empty() && proba.len() != rows.saturating_mul(classes) {
            let got = proba.len() / classes;
            return Err(Invalid::Length {
                what: "the probabilities",
                got,
                rows,
            });
        }
        for (row, &class) in truth.iter().chain(&predicted).enumerate() {
            if class as usize >= classes {
                let row = row % rows;
                return Err(Invalid::Class {
                    row,
                    class,
                    classes,
                });
            }
        }
        if let Some((i, &value)) = proba
            .iter()
            .enumerate()
            .find(|(_, p)| !(0.0..=1.0).contains(*p))
        {
            return Err(Invalid::Probability {
                row: i / classes,
                value,
            });
        }
        let scored: Vec<usize> = if proba.is_empty() {
            Vec::new()
        } else if classes == 2 {
            vec![1]
        } else {
            (0..classes).collect()
        };
        let order = scored
            .iter()
            .map(|&c| descending(|i| at(&proba, i * classes + c), rows))
            .collect();
        Ok(Classified {
            truth,
            predicted,
            proba,
            classes,
            order,
        })
    }

    pub fn rows(&self) -> usize {
        self.truth.len()
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn truth(&self) -> &[u32] {
        &self.truth
    }

    pub fn predicted(&self) -> &[u32] {
        &self.predicted
    }

    pub fn has_probabilities(&self) -> bool {
        !self.proba.is_empty()
    }

    /// The probability of `class` for `row` (0 when there are none).
    pub fn probability(&self, row: usize, class: usize) -> f64 {
        at(&self.proba, row * self.classes + class)
    }

    /// The same outputs on `rows` only.
    pub fn subset(&self, rows: &[u32]) -> Result<Classified, Invalid> {
        let pick = |v: &[u32]| {
            rows.iter()
                .filter_map(|&i| v.get(i as usize).copied())
                .collect()
        };
        let k = self.classes;
        let proba = if self.proba.is_empty() {
            Vec::new()
        } else {
            rows.iter()
                .flat_map(|&i| (0..k).map(move |c| self.probability(i as usize, c)))
                .collect()
        };
        Classified::new(pick(&self.truth), pick(&self.predicted), proba, k)
    }

    /// Each metric of [`CLASSIFICATION`] over the rows weighted by `w`
    /// (one weight per row); None where it is undefined (one class only,
    /// no probabilities).
    pub fn metrics(&self, w: &[u8]) -> Vec<(Metric, Option<f64>)> {
        let counts = Confusion::of(self, w);
        let per = counts.per_class();
        CLASSIFICATION
            .iter()
            .map(|&m| {
                let v = match m {
                    Metric::Accuracy => counts.accuracy(),
                    Metric::BalancedAccuracy => balanced(&per),
                    Metric::PrecisionMacro => macro_avg(&per, |c| c.precision),
                    Metric::RecallMacro => macro_avg(&per, |c| c.recall),
                    Metric::F1Macro => macro_avg(&per, |c| c.f1),
                    Metric::PrecisionWeighted => weighted_avg(&per, |c| c.precision),
                    Metric::RecallWeighted => weighted_avg(&per, |c| c.recall),
                    Metric::F1Weighted => weighted_avg(&per, |c| c.f1),
                    Metric::RocAuc => self.per_scored(w, roc_auc),
                    Metric::AveragePrecision => self.per_scored(w, average_precision),
                    Metric::LogLoss => self.log_loss(w),
                    Metric::BrierScore => self.brier(w),
                    Metric::ExpectedCalibrationError => self.ece(w),
                    // Not in CLASSIFICATION.
                    Metric::MeanAbsoluteError | Metric::RootMeanSquaredError | Metric::R2 => None,
                };
                (m, v)
            })
            .collect()
    }

    /// A binary curve metric of each scored class, averaged (macro): None
    /// when any is undefined, as scikit-learn refuses a class absent from
    /// the truth.
    fn per_scored(&self, w: &[u8], f: fn(&Points) -> Option<f64>) -> Option<f64> {
        if self.order.is_empty() {
            return None;
        }
        let scored = if self.classes == 2 { 1 } else { 0 };
        let mut sum = 0.0;
        for (k, order) in self.order.iter().enumerate() {
            let class = (scored + k) as u32;
            let curve = Curve {
                order,
                score: |i: usize| self.probability(i, class as usize),
                positive: |i: usize| self.truth.get(i) == Some(&class),
                w,
            };
            sum += f(&curve.points())?;
        }
        Some(sum / self.order.len() as f64)
    }

    fn log_loss(&self, w: &[u8]) -> Option<f64> {
        if !self.has_probabilities() {
            return None;
        }
        // scikit-learn clips to the float64 epsilon and does not
        // renormalise rows.
        let eps = f64::EPSILON;
        let (mut loss, mut total) = (0.0, 0.0);
        for (i, &t) in self.truth.iter().enumerate() {
            let wi = weight(w, i);
            if wi == 0.0 {
                continue;
            }
            let p = self.probability(i, t as usize).clamp(eps, 1.0 - eps);
            loss -= wi * p.ln();
            total += wi;
        }
        ratio(loss, total)
    }

    fn brier(&self, w: &[u8]) -> Option<f64> {
        if !self.has_probabilities() {
            return None;
        }
        let (mut sum, mut total) = (0.0, 0.0);
        for (i, &t) in self.truth.iter().enumerate() {
            let wi = weight(w, i);
            if wi == 0.0 {
                continue;
            }
            let row: f64 = (0..self.classes)
                .map(|c| {
                    let y = if c == t as usize { 1.0 } else { 0.0 };
                    (y - self.probability(i, c)).powi(2)
                })
                .sum();
            sum += wi * row;
            total += wi;
        }
        // Binary: scikit-learn's `scale_by_half="auto"` halves the sum
        // over both columns, which is the squared error of one.
        let scale = if self.classes == 2 { 0.5 } else { 1.0 };
        ratio(sum * scale, total)
    }

    fn ece(&self, w: &[u8]) -> Option<f64> {
        if !self.has_probabilities() {
            return None;
        }
        let mut bins = [(0.0f64, 0.0f64, 0.0f64); CALIBRATION_BINS];
        let mut total = 0.0;
        for (i, (&t, &p)) in self.truth.iter().zip(&self.predicted).enumerate() {
            let wi = weight(w, i);
            if wi == 0.0 {
                continue;
            }
            let conf = self.probability(i, p as usize);
            if let Some(b) = bins.get_mut(calibration_bin(conf)) {
                b.0 += wi;
                b.1 += wi * conf;
                b.2 += if t == p { wi } else { 0.0 };
            }
            total += wi;
        }
        if total == 0.0 {
            return None;
        }
        let gap: f64 = bins
            .iter()
            .filter(|b| b.0 > 0.0)
            .map(|(n, conf, correct)| n / total * (correct / n - conf / n).abs())
            .sum();
        Some(gap)
    }

    /// Calibration curve: per bin of confidence, the rows, their mean
    /// confidence and their accuracy (bins without rows are left out).
    pub fn calibration(&self) -> Vec<CalibrationBin> {
        let mut bins = [(0u64, 0.0f64, 0u64); CALIBRATION_BINS];
        for (i, (&t, &p)) in self.truth.iter().zip(&self.predicted).enumerate() {
            let conf = self.probability(i, p as usize);
            if let Some(b) = bins.get_mut(calibration_bin(conf)) {
                b.0 += 1;
                b.1 += conf;
                b.2 += u64::from(t == p);
            }
        }
        bins.iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(k, &(n, conf, correct))| CalibrationBin {
                upper: (k + 1) as f64 / CALIBRATION_BINS as f64,
                rows: n,
                confidence: conf / n as f64,
                accuracy: correct as f64 / n as f64,
            })
            .collect()
    }
}

/// One bin of a calibration curve.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibrationBin {
    /// The bin holds confidences above `upper - 0.1`, up to `upper`.
    pub upper: f64,
    pub rows: u64,
    pub confidence: f64,
    pub accuracy: f64,
}

/// Bins (0, 0.1], (0.1, 0.2] ... (0.9, 1]; 0 falls in the first.
fn calibration_bin(conf: f64) -> usize {
    let b = (conf * CALIBRATION_BINS as f64).ceil() as usize;
    b.clamp(1, CALIBRATION_BINS) - 1
}

impl Regressed {
    pub fn new(truth: Vec<f64>, predicted: Vec<f64>) -> Result<Regressed, Invalid> {
        let rows = truth.len();
        if rows == 0 {
            return Err(Invalid::Empty);
        }
        if predicted.len() != rows {
            let got = predicted.len();
            return Err(Invalid::Length {
                what: "the predictions",
                got,
                rows,
            });
        }
        for (what, values) in [("the truth", &truth), ("the prediction", &predicted)] {
            if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Invalid::NotFinite { row, what, value });
            }
        }
        Ok(Regressed { truth, predicted })
    }

    pub fn rows(&self) -> usize {
        self.truth.len()
    }

    pub fn truth(&self) -> &[f64] {
        &self.truth
    }

    pub fn predicted(&self) -> &[f64] {
        &self.predicted
    }

    /// The same outputs on `rows` only.
    pub fn subset(&self, rows: &[u32]) -> Result<Regressed, Invalid> {
        let pick = |v: &[f64]| {
            rows.iter()
                .filter_map(|&i| v.get(i as usize).copied())
                .collect()
        };
        Regressed::new(pick(&self.truth), pick(&self.predicted))
    }

    /// Each metric of [`REGRESSION`] over the rows weighted by `w`.
    pub fn metrics(&self, w: &[u8]) -> Vec<(Metric, Option<f64>)> {
        let (mut total, mut abs, mut sq, mut sum_y) = (0.0, 0.0, 0.0, 0.0);
        for (i, (&y, &p)) in self.truth.iter().zip(&self.predicted).enumerate() {
            let wi = weight(w, i);
            total += wi;
            abs += wi * (y - p).abs();
            sq += wi * (y - p) * (y - p);
            sum_y += wi * y;
        }
        let mean_y = sum_y / total;
        let ss_tot: f64 = self
            .truth
            .iter()
            .enumerate()
            .map(|(i, &y)| weight(w, i) * (y - mean_y) * (y - mean_y))
            .sum();
        // scikit-learn's `force_finite`: a constant truth scores 1 when
        // predicted exactly, else 0.
        let r2 = if total == 0.0 {
            None
        } else if ss_tot == 0.0 {
            Some(if sq == 0.0 { 1.0 } else { 0.0 })
        } else {
            Some(1.0 - sq / ss_tot)
        };
        vec![
            (Metric::MeanAbsoluteError, ratio(abs, total)),
            (
                Metric::RootMeanSquaredError,
                ratio(sq, total).map(f64::sqrt),
            ),
            (Metric::R2, r2),
        ]
    }
}

/// A weight (an empty slice weighs every row 1).
fn weight(w: &[u8], i: usize) -> f64 {
    if w.is_empty() {
        1.0
    } else {
        w.get(i).copied().map_or(0.0, f64::from)
    }
}

fn at(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0.0)
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// Row numbers by descending `score` (ties in row order).
fn descending(score: impl Fn(usize) -> f64, rows: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..rows as u32).collect();
    order.sort_by(|&a, &b| score(b as usize).total_cmp(&score(a as usize)));
    order
}

/// Weighted confusion counts.
struct Confusion {
    /// `cells[truth * classes + predicted]`.
    cells: Vec<f64>,
    classes: usize,
}

/// One class's scores, as `precision_recall_fscore_support` gives them
/// with `zero_division=0`.
#[derive(Debug, Clone, Copy)]
struct PerClass {
    precision: f64,
    recall: f64,
    f1: f64,
    /// Weight of rows whose truth is this class.
    support: f64,
    /// Whether the class is in the truth or the predictions (the labels
    /// scikit-learn averages over).
    present: bool,
}

impl Confusion {
    fn of(c: &Classified, w: &[u8]) -> Confusion {
        let k = c.classes;
        let mut cells = vec![0.0; k * k];
        for (i, (&t, &p)) in c.truth.iter().zip(&c.predicted).enumerate() {
            if let Some(cell) = cells.get_mut(t as usize * k + p as usize) {
                *cell += weight(w, i);
            }
        }
        Confusion { cells, classes: k }
    }

    fn cell(&self, t: usize, p: usize) -> f64 {
        at(&self.cells, t * self.classes + p)
    }

    fn accuracy(&self) -> Option<f64> {
        let total: f64 = self.cells.iter().sum();
        let right: f64 = (0..self.classes).map(|c| self.cell(c, c)).sum();
        ratio(right, total)
    }

    fn per_class(&self) -> Vec<PerClass> {
        let k = self.classes;
        (0..k)
            .map(|c| {
                let tp = self.cell(c, c);
                let truth: f64 = (0..k).map(|p| self.cell(c, p)).sum();
                let predicted: f64 = (0..k).map(|t| self.cell(t, c)).sum();
                let f_den = truth + predicted;
                PerClass {
                    precision: ratio(tp, predicted).unwrap_or(0.0),
                    recall: ratio(tp, truth).unwrap_or(0.0),
                    f1: ratio(2.0 * tp, f_den).unwrap_or(0.0),
                    support: truth,
                    present: truth > 0.0 || predicted > 0.0,
                }
            })
            .collect()
    }
}

/// The mean recall of the classes in the truth.
fn balanced(per: &[PerClass]) -> Option<f64> {
    let present: Vec<f64> = per
        .iter()
        .filter(|c| c.support > 0.0)
        .map(|c| c.recall)
        .collect();
    ratio(present.iter().sum(), present.len() as f64)
}

fn macro_avg(per: &[PerClass], f: fn(&PerClass) -> f64) -> Option<f64> {
    let present: Vec<f64> = per.iter().filter(|c| c.present).map(f).collect();
    ratio(present.iter().sum(), present.len() as f64)
}

fn weighted_avg(per: &[PerClass], f: fn(&PerClass) -> f64) -> Option<f64> {
    let total: f64 = per.iter().map(|c| c.support).sum();
    ratio(per.iter().map(|c| f(c) * c.support).sum(), total)
}

/// A binary scoring of weighted rows, walked by descending score.
struct Curve<'a, S, P> {
    order: &'a [u32],
    score: S,
    positive: P,
    w: &'a [u8],
}

/// Cumulative weighted true and false positives at each distinct
/// threshold, highest first (scikit-learn's `_binary_clf_curve`).
struct Points {
    tps: Vec<f64>,
    fps: Vec<f64>,
}

impl<S: Fn(usize) -> f64, P: Fn(usize) -> bool> Curve<'_, S, P> {
    fn points(&self) -> Points {
        let (mut tps, mut fps) = (Vec::new(), Vec::new());
        let (mut tp, mut fp) = (0.0, 0.0);
        let mut last: Option<f64> = None;
        for &i in self.order {
            let i = i as usize;
            let wi = weight(self.w, i);
            if wi == 0.0 {
                continue;
            }
            let s = (self.score)(i);
            if last.is_some_and(|l| l != s) {
                tps.push(tp);
                fps.push(fp);
            }
            last = Some(s);
            if (self.positive)(i) {
                tp += wi;
            } else {
                fp += wi;
            }
        }
        if last.is_some() {
            tps.push(tp);
            fps.push(fp);
        }
        Points { tps, fps }
    }
}

/// Trapezoidal area under the ROC curve; None without both kinds of rows.
fn roc_auc(p: &Points) -> Option<f64> {
    let (&p_all, &n_all) = (p.tps.last()?, p.fps.last()?);
    if p_all <= 0.0 || n_all <= 0.0 {
        return None;
    }
    let (mut area, mut prev_t, mut prev_f) = (0.0, 0.0, 0.0);
    for (&t, &f) in p.tps.iter().zip(&p.fps) {
        let (tpr, fpr) = (t / p_all, f / n_all);
        area += (fpr - prev_f) * (tpr + prev_t) / 2.0;
        prev_t = tpr;
        prev_f = fpr;
    }
    Some(area)
}

/// Σ (Rₙ − Rₙ₋₁) Pₙ over thresholds; None without positive rows.
fn average_precision(p: &Points) -> Option<f64> {
    let &p_all = p.tps.last()?;
    if p_all <= 0.0 {
        return None;
    }
    let (mut ap, mut prev_r) = (0.0, 0.0);
    for (&t, &f) in p.tps.iter().zip(&p.fps) {
        let recall = t / p_all;
        let precision = if t + f > 0.0 { t / (t + f) } else { 1.0 };
        ap += (recall - prev_r) * precision;
        prev_r = recall;
    }
    Some(ap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(ms: &[(Metric, Option<f64>)], m: Metric) -> Option<f64> {
        ms.iter().find(|(k, _)| *k == m).and_then(|(_, v)| *v)
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.unwrap();
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    /// Values from scikit-learn 1.9.1 on the same arrays:
    /// y = [0,0,1,1,1,0,1,0], p1 = [.1,.4,.35,.8,.7,.2,.9,.6], pred = p1 > .5.
    fn binary() -> Classified {
        let p1 = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.6];
        let truth = vec![0, 0, 1, 1, 1, 0, 1, 0];
        let predicted = p1.iter().map(|&p| u32::from(p > 0.5)).collect();
        let proba = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        Classified::new(truth, predicted, proba, 2).unwrap()
    }

    #[test]
    fn binary_metrics_equal_scikit_learns() {
        let m = binary().metrics(&[]);
        close(get(&m, Metric::Accuracy), 0.75);
        close(get(&m, Metric::BalancedAccuracy), 0.75);
        close(get(&m, Metric::F1Macro), 0.75);
        // roc_auc_score(y, p1): 14 of 16 pairs ordered.
        close(get(&m, Metric::RocAuc), 0.875);
        // average_precision_score(y, p1)
        close(get(&m, Metric::AveragePrecision), 0.9166666666666666);
        // log_loss(y, proba)
        let ll = -[0.9f64, 0.6, 0.35, 0.8, 0.7, 0.8, 0.9, 0.4]
            .iter()
            .map(|p| p.ln())
            .sum::<f64>()
            / 8.0;
        close(get(&m, Metric::LogLoss), ll);
        // brier_score_loss(y, p1)
        let b = [0.01, 0.16, 0.4225, 0.04, 0.09, 0.04, 0.01, 0.36];
        close(get(&m, Metric::BrierScore), b.iter().sum::<f64>() / 8.0);
    }

    #[test]
    fn tied_scores_count_half() {
        // One positive and one negative with the same score: AUC 0.5.
        let c = Classified::new(vec![0, 1], vec![0, 0], vec![0.5, 0.5, 0.5, 0.5], 2).unwrap();
        close(get(&c.metrics(&[]), Metric::RocAuc), 0.5);
        // AP: one threshold, recall 1 at precision 1/2.
        close(get(&c.metrics(&[]), Metric::AveragePrecision), 0.5);
    }

    #[test]
    fn weights_are_repeated_rows() {
        let c = binary();
        let w = [2u8, 0, 1, 3, 1, 1, 0, 2];
        let mut truth = Vec::new();
        let mut predicted = Vec::new();
        let mut proba = Vec::new();
        for (i, &k) in w.iter().enumerate() {
            for _ in 0..k {
                truth.push(c.truth[i]);
                predicted.push(c.predicted[i]);
                proba.extend([c.probability(i, 0), c.probability(i, 1)]);
            }
        }
        let repeated = Classified::new(truth, predicted, proba, 2).unwrap();
        for ((m, a), (_, b)) in c.metrics(&w).iter().zip(repeated.metrics(&[])) {
            let (a, b) = (a.unwrap(), b.unwrap());
            assert!((a - b).abs() < 1e-12, "{m:?}: {a} != {b}");
        }
    }

    #[test]
    fn multiclass_macro_and_weighted() {
        // y = [0,1,2,2,1,0], pred = [0,2,2,2,1,1]: per class precision
        // [1, .5, 2/3], recall [.5, .5, 1], support [2,2,2].
        let c = Classified::new(vec![0, 1, 2, 2, 1, 0], vec![0, 2, 2, 2, 1, 1], vec![], 3).unwrap();
        let m = c.metrics(&[]);
        close(
            get(&m, Metric::PrecisionMacro),
            (1.0 + 0.5 + 2.0 / 3.0) / 3.0,
        );
        close(get(&m, Metric::RecallWeighted), 2.0 / 3.0);
        close(get(&m, Metric::BalancedAccuracy), 2.0 / 3.0);
        let f1 = [2.0 / 3.0, 0.5, 0.8];
        close(get(&m, Metric::F1Macro), f1.iter().sum::<f64>() / 3.0);
        assert_eq!(get(&m, Metric::RocAuc), None, "no probabilities");
    }

    #[test]
    fn a_class_only_predicted_counts_in_macro_not_balanced() {
        // Class 2 is never true: it is in the macro average (precision
        // 0) as scikit-learn's labels are those of truth and predictions.
        let c = Classified::new(vec![0, 1, 1], vec![0, 1, 2], vec![], 3).unwrap();
        let m = c.metrics(&[]);
        close(get(&m, Metric::PrecisionMacro), 2.0 / 3.0);
        close(get(&m, Metric::BalancedAccuracy), 0.75);
    }

    #[test]
    fn one_class_has_no_auc() {
        let c = Classified::new(vec![1, 1], vec![1, 1], vec![0.2, 0.8, 0.3, 0.7], 2).unwrap();
        assert_eq!(get(&c.metrics(&[]), Metric::RocAuc), None);
    }

    #[test]
    fn invalid_outputs_are_refused() {
        assert_eq!(
            Classified::new(vec![0, 3], vec![0, 0], vec![], 2).unwrap_err(),
            Invalid::Class {
                row: 1,
                class: 3,
                classes: 2
            }
        );
        assert!(matches!(
            Classified::new(vec![0], vec![0], vec![1.5, -0.5], 2),
            Err(Invalid::Probability { row: 0, .. })
        ));
        assert!(matches!(
            Classified::new(vec![0], vec![0], vec![f64::NAN, 1.0], 2),
            Err(Invalid::Probability { .. })
        ));
        assert_eq!(
            Classified::new(vec![], vec![], vec![], 2).unwrap_err(),
            Invalid::Empty
        );
        assert!(Regressed::new(vec![1.0], vec![f64::INFINITY]).is_err());
    }

    #[test]
    fn regression_metrics() {
        // sklearn: mae 0.5, rmse sqrt(0.375), r2 0.9486081370449679
        let r = Regressed::new(vec![3.0, -0.5, 2.0, 7.0], vec![2.5, 0.0, 2.0, 8.0]).unwrap();
        let m = r.metrics(&[]);
        close(get(&m, Metric::MeanAbsoluteError), 0.5);
        close(get(&m, Metric::RootMeanSquaredError), 0.375f64.sqrt());
        close(get(&m, Metric::R2), 0.9486081370449679);
        let constant = Regressed::new(vec![1.0, 1.0], vec![1.0, 2.0]).unwrap();
        close(get(&constant.metrics(&[]), Metric::R2), 0.0);
    }

    #[test]
    fn calibration_bins_split_at_tenths() {
        assert_eq!(calibration_bin(0.0), 0);
        assert_eq!(calibration_bin(0.1), 0);
        assert_eq!(calibration_bin(0.1000001), 1);
        assert_eq!(calibration_bin(1.0), 9);
        // Confidences .95 .67 .62 .84 .88 in bins 9, 6, 6, 8, 8; the
        // second row is wrong: (0.05 + 2 * |0.5 - 0.645| + 0.28) / 5.
        let p1 = [0.95, 0.33, 0.62, 0.84, 0.12];
        let predicted = p1.iter().map(|&p| u32::from(p > 0.5)).collect();
        let proba = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        let c = Classified::new(vec![1, 1, 1, 1, 0], predicted, proba, 2).unwrap();
        close(
            get(&c.metrics(&[]), Metric::ExpectedCalibrationError),
            0.124,
        );
        let curve = c.calibration();
        assert_eq!(curve.len(), 3);
        assert_eq!(curve[0].rows, 2);
        assert!((curve[0].accuracy - 0.5).abs() < 1e-12);
    }

    #[test]
    fn names_round_trip() {
        for m in Metric::all() {
            assert_eq!(Metric::parse(m.name()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
        }
    }
}
