//! Label errors by confident learning (Northcutt, Jiang and Chuang 2021):
//! from out-of-fold class probabilities, estimate how often each class is
//! labelled as each other one, and flag that many rows per pair, those
//! whose probabilities argue most for the other class. This is cleanlab's
//! `find_label_issues` with its defaults (`filter_by="prune_by_noise_rate"`),
//! step for step, so that the same probabilities give the same rows.
//!
//! The probabilities come from the user (a model's out-of-fold
//! predictions) or from [`out_of_fold`]: a multinomial logistic regression
//! (L2, C = 1, as scikit-learn's default) trained on k - 1 folds and
//! applied to the k-th.

use crate::outliers::Matrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

/// Probability rows: `n` rows of `classes` values each, row-major.
pub struct Probabilities<'a> {
    pub values: &'a [f64],
    pub classes: usize,
}

impl Probabilities<'_> {
    fn row(&self, i: usize) -> &[f64] {
        self.values
            .get(i * self.classes..(i + 1) * self.classes)
            .unwrap_or(&[])
    }
    fn at(&self, i: usize, j: usize) -> f64 {
        self.row(i).get(j).copied().unwrap_or(0.0)
    }
}

/// Rows whose given label is likely wrong. `labels` are class indices
/// below `p.classes`; a row with another index is never flagged.
pub fn find_label_issues(labels: &[usize], p: &Probabilities) -> Vec<bool> {
    let (n, k) = (labels.len(), p.classes);
    if k < 2 || p.values.len() != n * k {
        return vec![false; n];
    }
    let mut counts = vec![0u64; k];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    let joint = calibrate(&confident_joint(labels, p, &counts), &counts);
    // prune_count_matrix = joint^T: [true][given].
    let mut prune = vec![vec![0i64; k]; k];
    for (given, row) in joint.iter().enumerate() {
        for (truth, &c) in row.iter().enumerate() {
            if let Some(slot) = prune.get_mut(truth).and_then(|r| r.get_mut(given)) {
                *slot = c;
            }
        }
    }
    let prune = keep_at_least_one_per_class(prune);
    let mut issues = vec![false; n];
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(rows) = by_class.get_mut(l) {
            rows.push(i);
        }
    }
    for (given, rows) in by_class.iter().enumerate() {
        if rows.len() <= 1 {
            continue;
        }
        for truth in (0..k).filter(|&t| t != given) {
            let take = prune
                .get(truth)
                .and_then(|r| r.get(given))
                .copied()
                .unwrap_or(0);
            if take <= 0 {
                continue;
            }
            let mut by_margin: Vec<(f64, usize)> = rows
                .iter()
                .map(|&i| (p.at(i, truth) - p.at(i, given), i))
                .collect();
            by_margin.sort_by(|a, b| b.0.total_cmp(&a.0));
            for &(_, i) in by_margin.iter().take(take as usize) {
                if let Some(f) = issues.get_mut(i) {
                    *f = true;
                }
            }
        }
    }
    // Rows the model predicts as labelled (within 1e-6) are never issues.
    for (i, flag) in issues.iter_mut().enumerate() {
        let given = labels.get(i).copied().unwrap_or(usize::MAX);
        let row = p.row(i);
        let best = argmax(
            row.iter()
                .enumerate()
                .map(|(j, &x)| if j == given { x + 1e-6 } else { x }),
        );
        if best == Some(given) {
            *flag = false;
        }
    }
    issues
}

/// First index of the largest value (numpy's argmax).
fn argmax(values: impl Iterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in values.enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|b| b.0)
}

/// Counts of (given label, confidently predicted class): a row counts for
/// a class when its probability reaches that class's threshold (the mean
/// probability of the class among rows labelled with it); of several, the
/// most probable.
fn confident_joint(labels: &[usize], p: &Probabilities, counts: &[u64]) -> Vec<Vec<f64>> {
    let k = p.classes;
    let mut sums = vec![0.0f64; k];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(sum) = sums.get_mut(l) {
            *sum += p.at(i, l);
        }
    }
    let thresholds: Vec<f64> = sums
        .iter()
        .zip(counts)
        .map(|(sum, &c)| {
            if c == 0 {
                2.0
            } else {
                (sum / c as f64).max(2e-6)
            }
        })
        .collect();
    let mut joint = vec![vec![0.0f64; k]; k];
    for (i, &given) in labels.iter().enumerate() {
        let row = p.row(i);
        let confident: Vec<usize> = (0..k)
            .filter(|&j| {
                row.get(j).copied().unwrap_or(0.0)
                    >= thresholds.get(j).copied().unwrap_or(2.0) - 1e-6
            })
            .collect();
        let guess = match confident.len() {
            0 => continue,
            1 => confident.first().copied(),
            _ => argmax(row.iter().copied()),
        };
        if let Some(slot) = guess.and_then(|g| joint.get_mut(given).and_then(|r| r.get_mut(g))) {
            *slot += 1.0;
        }
    }
    for (j, row) in joint.iter_mut().enumerate() {
        if let Some(d) = row.get_mut(j) {
            *d = f64::max(*d, 1.0);
        }
    }
    joint
}

/// Scales each row to its label's count and the whole to the row count,
/// then rounds keeping row totals.
fn calibrate(joint: &[Vec<f64>], counts: &[u64]) -> Vec<Vec<i64>> {
    let scaled: Vec<Vec<f64>> = joint
        .iter()
        .zip(counts)
        .map(|(row, &c)| {
            let sum: f64 = row.iter().sum::<f64>().max(1e-100);
            row.iter().map(|x| x / sum * c as f64).collect()
        })
        .collect();
    let total: f64 = scaled.iter().flatten().sum::<f64>().max(1e-100);
    let n: u64 = counts.iter().sum();
    scaled
        .iter()
        .map(|row| {
            round_preserving_sum(&row.iter().map(|x| x / total * n as f64).collect::<Vec<_>>())
        })
        .collect()
}

/// Rounds values so that they still add up to their rounded sum, moving
/// the largest remainders (cleanlab's `round_preserving_sum`).
fn round_preserving_sum(floats: &[f64]) -> Vec<i64> {
    let mut ints: Vec<f64> = floats.iter().map(|x| x.round_ties_even()).collect();
    let target = floats.iter().sum::<f64>().round_ties_even();
    for _ in 0..floats.len().max(1) * 4 {
        let sum = ints.iter().sum::<f64>().round_ties_even();
        if (sum - target).abs() <= 1e-6 {
            break;
        }
        let diff = (target - sum).round_ties_even();
        let step = if diff < 0.0 { -1.0 } else { 1.0 };
        let mut order: Vec<usize> = (0..floats.len()).collect();
        let rem =
            |i: usize| floats.get(i).copied().unwrap_or(0.0) - ints.get(i).copied().unwrap_or(0.0);
        order.sort_by(|&a, &b| rem(a).total_cmp(&rem(b)));
        if step > 0.0 {
            order.reverse();
        }
        for &i in order.iter().take((diff.abs() as usize).min(floats.len())) {
            if let Some(v) = ints.get_mut(i) {
                *v += step;
            }
        }
    }
    ints.iter().map(|&x| x as i64).collect()
}

/// Makes every diagonal entry at least 1, taking the difference from the
/// column's off-diagonal entries (cleanlab's `_keep_at_least_n_per_class`
/// with n = 1).
fn keep_at_least_one_per_class(m: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
    let k = m.len();
    let mut out: Vec<Vec<f64>> = m
        .iter()
        .map(|r| r.iter().map(|&x| x as f64).collect())
        .collect();
    for col in 0..k {
        let diag = m.get(col).and_then(|r| r.get(col)).copied().unwrap_or(0);
        let raise = (diag.max(1) - diag) as f64;
        let nonzero = m
            .iter()
            .filter(|r| r.get(col).is_some_and(|&x| x != 0))
            .count();
        let per = raise / ((nonzero as f64 - 1.0).max(1.0));
        for (row, r) in out.iter_mut().enumerate() {
            if let Some(x) = r.get_mut(col) {
                *x = if row == col {
                    diag.max(1) as f64
                } else {
                    (*x - per).max(0.0)
                };
            }
        }
    }
    out.iter()
        .map(|r| round_preserving_sum(&r.iter().map(|x| x.trunc()).collect::<Vec<_>>()))
        .collect()
}

/// Settings of the logistic regression.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub folds: usize,
    /// Inverse of the L2 penalty, as scikit-learn's `C`.
    pub c: f64,
    pub max_iterations: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            folds: 5,
            c: 1.0,
            max_iterations: 100,
            seed: 0,
        }
    }
}

/// Out-of-fold class probabilities for every row of `x` (standardised
/// features): rows are dealt into folds at random (seeded), and each fold
/// is predicted by a model fitted on the others. Folds run on all cores.
pub fn out_of_fold(x: &Matrix, labels: &[usize], classes: usize, s: Settings) -> Vec<f64> {
    let n = x.rows().min(labels.len());
    let folds = s.folds.clamp(2, n.max(2));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(s.seed));
    let mut fold_of = vec![0usize; n];
    for (rank, &i) in order.iter().enumerate() {
        if let Some(f) = fold_of.get_mut(i) {
            *f = rank % folds;
        }
    }
    let predictions: Vec<Vec<(usize, Vec<f64>)>> = (0..folds)
        .into_par_iter()
        .map(|f| {
            // Rows without a known label are predicted, never learnt from.
            let train: Vec<usize> = (0..n)
                .filter(|&i| {
                    fold_of.get(i) != Some(&f) && labels.get(i).is_some_and(|&l| l < classes)
                })
                .collect();
            let model = Logistic::fit(x, labels, &train, classes, s);
            (0..n)
                .filter(|&i| fold_of.get(i) == Some(&f))
                .map(|i| (i, model.predict(x.row(i))))
                .collect()
        })
        .collect();
    let mut out = vec![0.0; n * classes];
    for (i, p) in predictions.into_iter().flatten() {
        if let Some(slot) = out.get_mut(i * classes..(i + 1) * classes) {
            slot.copy_from_slice(&p);
        }
    }
    out
}

/// A multinomial logistic regression: one weight row per class, the
/// intercept last.
pub struct Logistic {
    weights: Vec<f64>,
    classes: usize,
    features: usize,
}

impl Logistic {
    /// Minimises the mean cross-entropy over `rows` plus
    /// `1 / (2 C n) |W|^2` (intercepts not penalised) by L-BFGS.
    pub fn fit(
        x: &Matrix,
        labels: &[usize],
        rows: &[usize],
        classes: usize,
        s: Settings,
    ) -> Logistic {
        let d = x.columns;
        let width = d + 1;
        let lambda = 1.0 / (s.c * rows.len().max(1) as f64);
        let objective = |w: &[f64]| -> (f64, Vec<f64>) {
            let (mut loss, mut grad) = rows
                .par_chunks(4096)
                .map(|chunk| {
                    let mut loss = 0.0;
                    let mut grad = vec![0.0; classes * width];
                    let mut z = vec![0.0; classes];
                    for &i in chunk {
                        let row = x.row(i);
                        softmax_into(w, row, &mut z);
                        let y = labels.get(i).copied().unwrap_or(0);
                        loss -= z.get(y).copied().unwrap_or(1.0).max(1e-300).ln();
                        for (c, &pc) in z.iter().enumerate() {
                            let e = pc - f64::from(u8::from(c == y));
                            let g = grad.get_mut(c * width..(c + 1) * width).unwrap_or(&mut []);
                            for (gj, &xj) in g.iter_mut().zip(row) {
                                *gj += e * f64::from(xj);
                            }
                            if let Some(b) = g.last_mut() {
                                *b += e;
                            }
                        }
                    }
                    (loss, grad)
                })
                .reduce(
                    || (0.0, vec![0.0; classes * width]),
                    |(la, mut ga), (lb, gb)| {
                        ga.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
                        (la + lb, ga)
                    },
                );
            let m = rows.len().max(1) as f64;
            loss /= m;
            grad.iter_mut().for_each(|g| *g /= m);
            for (j, (wj, gj)) in w.iter().zip(grad.iter_mut()).enumerate() {
                if j % width != d {
                    loss += 0.5 * lambda * wj * wj;
                    *gj += lambda * wj;
                }
            }
            (loss, grad)
        };
        let weights = lbfgs(vec![0.0; classes * width], objective, s.max_iterations);
        Logistic {
            weights,
            classes,
            features: d,
        }
    }

    pub fn predict(&self, row: &[f32]) -> Vec<f64> {
        let mut z = vec![0.0; self.classes];
        if row.len() == self.features {
            softmax_into(&self.weights, row, &mut z);
        }
        z
    }
}

/// Class probabilities of one row into `z`.
fn softmax_into(w: &[f64], row: &[f32], z: &mut [f64]) {
    let width = row.len() + 1;
    for (c, zc) in z.iter_mut().enumerate() {
        let wc = w.get(c * width..(c + 1) * width).unwrap_or(&[]);
        *zc = wc
            .iter()
            .zip(row)
            .map(|(a, &b)| a * f64::from(b))
            .sum::<f64>()
            + wc.last().copied().unwrap_or(0.0);
    }
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for zc in z.iter_mut() {
        *zc = (*zc - max).exp();
        sum += *zc;
    }
    z.iter_mut().for_each(|zc| *zc /= sum);
}

/// Minimises a smooth convex function by L-BFGS (10 corrections) with a
/// backtracking line search, stopping when the gradient's largest entry
/// is below 1e-4 (scikit-learn's `tol`) or after `max_iterations`.
fn lbfgs(
    mut w: Vec<f64>,
    f: impl Fn(&[f64]) -> (f64, Vec<f64>),
    max_iterations: usize,
) -> Vec<f64> {
    const MEMORY: usize = 10;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (mut value, mut grad) = f(&w);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for _ in 0..max_iterations {
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < 1e-4 {
            break;
        }
        // Two-loop recursion: direction = -H grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = history
            .back()
            .map_or(1.0 / dot(&grad, &grad).sqrt().max(1e-12), |(s, y, _)| {
                dot(s, y) / dot(y, y).max(1e-300)
            });
        q.iter_mut().for_each(|x| *x *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let direction: Vec<f64> = q.iter().map(|x| -x).collect();
        let slope = dot(&grad, &direction);
        if slope >= 0.0 {
            history.clear();
            continue;
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let candidate: Vec<f64> = w
                .iter()
                .zip(&direction)
                .map(|(a, b)| a + step * b)
                .collect();
            let (v, g) = f(&candidate);
            if v <= value + 1e-4 * step * slope {
                accepted = Some((candidate, v, g));
                break;
            }
            step /= 2.0;
        }
        let Some((next, v, g)) = accepted else {
            break;
        };
        let s: Vec<f64> = next.iter().zip(&w).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        let improvement = value - v;
        (w, value, grad) = (next, v, g);
        if improvement.abs() <= 1e-12 * value.abs().max(1.0) {
            break;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Three classes around three centres in 4 dimensions; every tenth
    /// row's label moved to the next class.
    fn noisy(n: usize) -> (Matrix, Vec<usize>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut values = Vec::new();
        let mut labels = Vec::new();
        let mut flipped = Vec::new();
        for i in 0..n {
            let class = i % 3;
            for j in 0..4 {
                let centre = if j == class { 2.0 } else { 0.0 };
                values.push(centre + rng.gen_range(-1.0f32..1.0) * 1.2);
            }
            let flip = rng.gen_range(0..10) == 0;
            labels.push(if flip { (class + 1) % 3 } else { class });
            flipped.push(flip);
        }
        (Matrix { values, columns: 4 }, labels, flipped)
    }

    #[test]
    fn flipped_labels_are_found_from_out_of_fold_probabilities() {
        let (x, labels, flipped) = noisy(3_000);
        let p = out_of_fold(&x, &labels, 3, Settings::default());
        let issues = find_label_issues(
            &labels,
            &Probabilities {
                values: &p,
                classes: 3,
            },
        );
        let found = issues
            .iter()
            .zip(&flipped)
            .filter(|(a, b)| **a && **b)
            .count();
        let flagged = issues.iter().filter(|a| **a).count();
        let truth = flipped.iter().filter(|a| **a).count();
        let (precision, recall) = (found as f64 / flagged as f64, found as f64 / truth as f64);
        assert!(
            precision > 0.8 && recall > 0.7,
            "precision {precision}, recall {recall}"
        );
    }

    #[test]
    fn logistic_regression_separates_separable_classes() {
        let (x, labels, _) = noisy(600);
        let clean: Vec<usize> = (0..600).map(|i| i % 3).collect();
        let rows: Vec<usize> = (0..600).collect();
        let m = Logistic::fit(&x, &clean, &rows, 3, Settings::default());
        let right = rows
            .iter()
            .filter(|&&i| argmax(m.predict(x.row(i)).into_iter()) == Some(clean[i]))
            .count();
        assert!(right > 500, "{right} of 600");
        assert_eq!(labels.len(), 600);
    }

    #[test]
    fn rounding_keeps_the_total() {
        // Half-to-even gives 0, 0, 1; the largest remainder last in order gains.
        assert_eq!(round_preserving_sum(&[0.5, 0.5, 1.0]), vec![0, 1, 1]);
        let r = round_preserving_sum(&[1.4, 1.4, 1.4, 0.8]);
        assert_eq!(r.iter().sum::<i64>(), 5);
    }

    #[test]
    fn certain_predictions_agreeing_with_labels_flag_nothing() {
        let labels = [0, 1, 0, 1];
        let p = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.1, 0.9];
        assert!(find_label_issues(
            &labels,
            &Probabilities {
                values: &p,
                classes: 2
            }
        )
        .iter()
        .all(|f| !f));
        // One row labelled 0 that the model is sure is 1.
        let labels = [0, 1, 0, 1, 0, 1, 0];
        let p = [
            0.9, 0.1, 0.2, 0.8, 0.8, 0.2, 0.1, 0.9, 0.9, 0.1, 0.3, 0.7, 0.02, 0.98,
        ];
        let flagged = find_label_issues(
            &labels,
            &Probabilities {
                values: &p,
                classes: 2,
            },
        );
        assert_eq!(
            flagged,
            vec![false, false, false, false, false, false, true]
        );
    }
}
