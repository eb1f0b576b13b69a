//! Outliers by Isolation Forest (Liu, Ting and Zhou, 2008), as
//! scikit-learn's `IsolationForest` computes them: trees grown on random
//! subsamples by random splits (a random feature, a threshold uniform
//! between its smallest and largest value in the node) to a depth of
//! log2 of the subsample, and a row's score `2^(-E[h(x)] / c(n))` from its
//! average path length, where a leaf holding `k` rows adds `c(k)`, the
//! average path length of an unsuccessful search in a binary search tree.
//! Scores near 1 are outliers; near 0.5 or below, ordinary rows.
//!
//! Trees are grown and rows scored on all cores; a seed makes a forest
//! reproducible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Rows of numeric features, row-major, as 32-bit floats (as
/// scikit-learn converts them too): a million rows of 20 features take
/// 80 MB.
pub struct Matrix {
    pub values: Vec<f32>,
    pub columns: usize,
}

impl Matrix {
    pub fn rows(&self) -> usize {
        self.values.len().checked_div(self.columns).unwrap_or(0)
    }

    pub(crate) fn row(&self, i: usize) -> &[f32] {
        let start = i * self.columns;
        self.values.get(start..start + self.columns).unwrap_or(&[])
    }

    fn at(&self, row: usize, column: usize) -> f64 {
        self.values
            .get(row * self.columns + column)
            .copied()
            .map_or(0.0, f64::from)
    }
}

#[derive(Debug, Clone, Copy)]
enum Node {
    Leaf {
        size: usize,
    },
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
}

struct Tree {
    nodes: Vec<Node>,
}

/// Settings of a forest (scikit-learn's defaults).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub trees: usize,
    /// Rows drawn, without replacement, for each tree.
    pub sample: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            trees: 100,
            sample: 256,
            seed: 0,
        }
    }
}

pub struct Forest {
    trees: Vec<Tree>,
    sample: usize,
}

/// Euler's constant, for the harmonic numbers in [`average_path`].
const EULER: f64 = 0.577_215_664_901_532_9;

/// `c(n)`: the average path length of an unsuccessful search in a binary
/// search tree of `n` keys.
fn average_path(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER) - 2.0 * (n - 1.0) / n
        }
    }
}

impl Forest {
    /// Grows a forest on the rows of `data`.
    pub fn fit(data: &Matrix, s: Settings) -> Forest {
        let rows = data.rows();
        let sample = s.sample.min(rows);
        if sample == 0 {
            return Forest {
                trees: Vec::new(),
                sample,
            };
        }
        let depth = (sample as f64).log2().ceil() as usize;
        let trees = (0..s.trees)
            .into_par_iter()
            .map(|t| {
                // One stream per tree, so that the forest does not depend
                // on how the trees were shared among threads.
                let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
                rng.set_stream(t as u64);
                let mut picked = rand::seq::index::sample(&mut rng, rows, sample).into_vec();
                let mut nodes = Vec::new();
                grow(data, &mut picked, depth, &mut rng, &mut nodes);
                Tree { nodes }
            })
            .collect();
        Forest { trees, sample }
    }

    /// The anomaly score of one row: 2^(-mean path length / c(sample)).
    pub fn score(&self, row: &[f32]) -> f64 {
        if self.trees.is_empty() {
            return 0.5;
        }
        let total: f64 = self.trees.iter().map(|t| path_length(t, row)).sum();
        let mean = total / self.trees.len() as f64;
        let c = average_path(self.sample);
        if c == 0.0 {
            return 0.5;
        }
        2f64.powf(-mean / c)
    }

    /// Scores of every row, on all cores.
    pub fn score_all(&self, data: &Matrix) -> Vec<f64> {
        (0..data.rows())
            .into_par_iter()
            .map(|i| self.score(data.row(i)))
            .collect()
    }
}

/// Grows the subtree of `rows` and returns its node's index.
fn grow(
    data: &Matrix,
    rows: &mut [usize],
    depth: usize,
    rng: &mut ChaCha8Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let here = nodes.len();
    nodes.push(Node::Leaf { size: rows.len() });
    if depth == 0 || rows.len() <= 1 {
        return here;
    }
    // A random feature that is not constant in the node, as scikit-learn's
    // splitter draws them: features found constant are not drawn again.
    let mut candidates: Vec<usize> = (0..data.columns).collect();
    let split = loop {
        if candidates.is_empty() {
            break None;
        }
        let k = rng.gen_range(0..candidates.len());
        let feature = candidates.swap_remove(k);
        let (lo, hi) = rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                let v = data.at(r, feature);
                (lo.min(v), hi.max(v))
            });
        if hi > lo && lo.is_finite() && hi.is_finite() {
            // Uniform in [lo, hi), written so that hi - lo cannot overflow.
            let u: f64 = rng.gen();
            break Some((feature, lo * (1.0 - u) + hi * u));
        }
    };
    let Some((feature, threshold)) = split else {
        return here;
    };
    // Rows below the threshold to the front.
    let mut cut = 0;
    for i in 0..rows.len() {
        if rows
            .get(i)
            .is_some_and(|&r| data.at(r, feature) < threshold)
        {
            rows.swap(i, cut);
            cut += 1;
        }
    }
    let (left_rows, right_rows) = rows.split_at_mut(cut);
    let left = grow(data, left_rows, depth - 1, rng, nodes);
    let right = grow(data, right_rows, depth - 1, rng, nodes);
    if let Some(n) = nodes.get_mut(here) {
        *n = Node::Split {
            feature,
            threshold,
            left,
            right,
        };
    }
    here
}

fn path_length(tree: &Tree, row: &[f32]) -> f64 {
    let mut at = 0;
    let mut depth = 0.0;
    // Bounded by the tree's depth; the count guards against a malformed
    // tree all the same.
    for _ in 0..=tree.nodes.len() {
        match tree.nodes.get(at) {
            Some(Node::Split {
                feature,
                threshold,
                left,
                right,
            }) => {
                let v = row.get(*feature).copied().map_or(0.0, f64::from);
                at = if v < *threshold { *left } else { *right };
                depth += 1.0;
            }
            Some(Node::Leaf { size }) => return depth + average_path(*size),
            None => break,
        }
    }
    depth
}

/// How a column becomes a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Its numbers; values that are not finite numbers count as missing.
    Number,
    /// The share of rows holding its value (frequency encoding): rare
    /// categories get small values, which isolates them.
    Category,
}

/// Most categories kept per column; further ones share one code.
const MAX_CATEGORIES: usize = 10_000;

/// Builds a feature matrix row by row: missing values become the
/// column's mean, categories their frequency. Values are stored as they
/// come, one 32-bit float per cell: numbers, or category codes.
pub struct FeatureBuilder {
    encodings: Vec<Encoding>,
    index: std::collections::HashMap<String, usize>,
    /// Row-major cells; NaN while missing.
    values: Vec<f32>,
    categories: Vec<std::collections::HashMap<String, u32>>,
    /// Each row's record and line numbers.
    pub rows: Vec<(u64, u64)>,
}

impl FeatureBuilder {
    pub fn new(columns: &[(String, Encoding)]) -> FeatureBuilder {
        FeatureBuilder {
            encodings: columns.iter().map(|c| c.1).collect(),
            index: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.0.clone(), i))
                .collect(),
            values: Vec::new(),
            categories: vec![Default::default(); columns.len()],
            rows: Vec::new(),
        }
    }

    /// Starts a row: every feature missing until set.
    pub fn start_row(&mut self, record: u64, line: u64) {
        self.rows.push((record, line));
        let columns = self.encodings.len();
        self.values.extend(std::iter::repeat_n(f32::NAN, columns));
    }

    pub fn set(&mut self, column: &str, value: &str) {
        let Some(&i) = self.index.get(column) else {
            return;
        };
        let (Some(encoding), Some(categories)) =
            (self.encodings.get(i), self.categories.get_mut(i))
        else {
            return;
        };
        let cell = match encoding {
            // Numbers beyond the range of 32-bit floats count as missing.
            Encoding::Number => value.trim().parse::<f32>().ok().filter(|v| v.is_finite()),
            Encoding::Category => {
                let code = match categories.get(value) {
                    Some(&code) => code,
                    None if categories.len() < MAX_CATEGORIES => {
                        let next = categories.len() as u32;
                        categories.insert(value.to_string(), next);
                        next
                    }
                    None => MAX_CATEGORIES as u32,
                };
                Some(code as f32)
            }
        };
        let at = self.rows.len().saturating_sub(1) * self.encodings.len() + i;
        if let (Some(slot), Some(v)) = (self.values.get_mut(at), cell) {
            *slot = v;
        }
    }

    /// The matrix for a linear model (the builder stays, for
    /// [`FeatureBuilder::finish`]): numbers standardised (mean 0,
    /// standard deviation 1; missing ones at the mean), categories one-hot
    /// over their `max_levels` most frequent values (a missing value is a
    /// value; rarer ones have every column 0).
    pub fn one_hot(&self, max_levels: usize) -> Matrix {
        let rows = self.rows.len();
        let columns = self.encodings.len();
        let cell = |r: usize, j: usize| {
            self.values
                .get(r * columns + j)
                .copied()
                .unwrap_or(f32::NAN)
        };
        // Per column: how one value becomes features.
        enum Plan {
            Scale(f64, f64),
            Levels(std::collections::HashMap<u32, usize>),
        }
        let missing_code = (MAX_CATEGORIES + 1) as u32;
        let code = |v: f32| {
            if v.is_finite() {
                v as u32
            } else {
                missing_code
            }
        };
        let plans: Vec<Plan> = self
            .encodings
            .iter()
            .enumerate()
            .map(|(j, e)| match e {
                Encoding::Number => {
                    let (mut n, mut sum, mut sq) = (0.0f64, 0.0f64, 0.0f64);
                    for r in 0..rows {
                        let v = f64::from(cell(r, j));
                        if v.is_finite() {
                            n += 1.0;
                            sum += v;
                            sq += v * v;
                        }
                    }
                    let mean = if n > 0.0 { sum / n } else { 0.0 };
                    let sd = if n > 0.0 {
                        (sq / n - mean * mean).max(0.0).sqrt()
                    } else {
                        0.0
                    };
                    Plan::Scale(mean, if sd > 0.0 { sd } else { 1.0 })
                }
                Encoding::Category => {
                    let mut counts: std::collections::HashMap<u32, u64> = Default::default();
                    for r in 0..rows {
                        *counts.entry(code(cell(r, j))).or_default() += 1;
                    }
                    let mut by_count: Vec<(u32, u64)> = counts.into_iter().collect();
                    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    Plan::Levels(
                        by_count
                            .iter()
                            .take(max_levels)
                            .enumerate()
                            .map(|(k, (c, _))| (*c, k))
                            .collect(),
                    )
                }
            })
            .collect();
        let widths: Vec<usize> = plans
            .iter()
            .map(|p| match p {
                Plan::Scale(..) => 1,
                Plan::Levels(l) => l.len(),
            })
            .collect();
        let width: usize = widths.iter().sum();
        let mut values = vec![0.0f32; rows * width];
        for (r, out) in values.chunks_exact_mut(width.max(1)).enumerate() {
            let mut at = 0;
            for (j, (plan, w)) in plans.iter().zip(&widths).enumerate() {
                let v = cell(r, j);
                match plan {
                    Plan::Scale(mean, sd) => {
                        let x = if v.is_finite() {
                            (f64::from(v) - mean) / sd
                        } else {
                            0.0
                        };
                        if let Some(slot) = out.get_mut(at) {
                            *slot = x as f32;
                        }
                    }
                    Plan::Levels(levels) => {
                        if let Some(slot) = levels.get(&code(v)).and_then(|k| out.get_mut(at + k)) {
                            *slot = 1.0;
                        }
                    }
                }
                at += w;
            }
        }
        Matrix {
            values,
            columns: width,
        }
    }

    /// The matrix, missing numbers filled with the column's mean and
    /// category codes replaced by their frequency.
    pub fn finish(mut self) -> (Matrix, Vec<(u64, u64)>) {
        let rows = self.rows.len();
        let columns = self.encodings.len();
        let share = |n: u64| (n as f64 / rows.max(1) as f64) as f32;
        for (j, encoding) in self.encodings.iter().enumerate() {
            let column = || (0..rows).map(move |r| r * columns + j);
            match encoding {
                Encoding::Number => {
                    let (sum, n) = column()
                        .filter_map(|k| self.values.get(k).filter(|v| v.is_finite()))
                        .fold((0.0f64, 0u64), |(s, n), v| (s + f64::from(*v), n + 1));
                    let mean = if n == 0 { 0.0 } else { (sum / n as f64) as f32 };
                    for k in column() {
                        if let Some(v) = self.values.get_mut(k).filter(|v| !v.is_finite()) {
                            *v = mean;
                        }
                    }
                }
                Encoding::Category => {
                    // A missing category is a category of its own.
                    let mut counts = vec![0u64; MAX_CATEGORIES + 2];
                    let slot = |v: f32| {
                        if v.is_finite() {
                            v as usize
                        } else {
                            MAX_CATEGORIES + 1
                        }
                    };
                    for k in column() {
                        if let Some(c) = self.values.get(k).and_then(|v| counts.get_mut(slot(*v))) {
                            *c += 1;
                        }
                    }
                    for k in column() {
                        if let Some(v) = self.values.get_mut(k) {
                            *v = share(counts.get(slot(*v)).copied().unwrap_or(0));
                        }
                    }
                }
            }
        }
        (
            Matrix {
                values: self.values,
                columns,
            },
            self.rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2,000 rows around the origin and 20 far out, in 5 dimensions.
    fn planted() -> (Matrix, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut values = Vec::new();
        let mut outlier = Vec::new();
        for i in 0..2_020 {
            let far = i >= 2_000;
            for _ in 0..5 {
                let v: f32 = rng.gen_range(-1.0..1.0);
                values.push(if far { v * 0.2 + 6.0 } else { v });
            }
            outlier.push(far);
        }
        (Matrix { values, columns: 5 }, outlier)
    }

    #[test]
    fn planted_outliers_score_highest() {
        let (m, outlier) = planted();
        let f = Forest::fit(&m, Settings::default());
        let s = f.score_all(&m);
        let worst_inlier = s
            .iter()
            .zip(&outlier)
            .filter(|(_, o)| !**o)
            .map(|(s, _)| *s)
            .fold(0.0, f64::max);
        let best_outlier = s
            .iter()
            .zip(&outlier)
            .filter(|(_, o)| **o)
            .map(|(s, _)| *s)
            .fold(1.0, f64::min);
        assert!(
            best_outlier > worst_inlier,
            "{best_outlier} vs {worst_inlier}"
        );
        assert!(best_outlier > 0.6, "{best_outlier}");
    }

    #[test]
    fn a_seed_makes_the_forest_reproducible() {
        let (m, _) = planted();
        let a = Forest::fit(&m, Settings::default()).score_all(&m);
        let b = Forest::fit(&m, Settings::default()).score_all(&m);
        let c = Forest::fit(
            &m,
            Settings {
                seed: 1,
                ..Settings::default()
            },
        )
        .score_all(&m);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn average_path_matches_the_formula() {
        assert_eq!(average_path(1), 0.0);
        assert_eq!(average_path(2), 1.0);
        // scikit-learn's _average_path_length(256).
        assert!((average_path(256) - 10.244_770_920_119_917).abs() < 1e-12);
    }

    #[test]
    fn features_fill_means_and_encode_frequencies() {
        let mut b = FeatureBuilder::new(&[
            ("x".into(), Encoding::Number),
            ("c".into(), Encoding::Category),
        ]);
        for (i, (x, c)) in [("1", "a"), ("3", "a"), ("oops", "b"), ("inf", "a")]
            .iter()
            .enumerate()
        {
            b.start_row(i as u64 + 1, i as u64 + 2);
            b.set("x", x);
            b.set("c", c);
            b.set("ignored", "9");
        }
        b.start_row(5, 6);
        let (m, rows) = b.finish();
        assert_eq!(m.columns, 2);
        assert_eq!(rows.last(), Some(&(5, 6)));
        let x: Vec<f64> = (0..5).map(|r| m.at(r, 0)).collect();
        assert_eq!(
            x,
            vec![1.0, 3.0, 2.0, 2.0, 2.0],
            "missing and infinite numbers take the mean"
        );
        let c: Vec<f32> = (0..5).map(|r| m.at(r, 1) as f32).collect();
        assert_eq!(c, vec![0.6, 0.6, 0.2, 0.6, 0.2]);
    }

    #[test]
    fn degenerate_inputs() {
        let empty = Matrix {
            values: vec![],
            columns: 3,
        };
        assert!(Forest::fit(&empty, Settings::default())
            .score_all(&empty)
            .is_empty());
        let constant = Matrix {
            values: vec![1.0; 300],
            columns: 3,
        };
        let s = Forest::fit(&constant, Settings::default()).score_all(&constant);
        assert!(s.iter().all(|x| x.is_finite()), "{s:?}");
    }
}
