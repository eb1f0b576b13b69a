//! Bootstrap confidence intervals, seeded and reproducible.
//!
//! Each resample weighs every row by a Poisson(1) count (the Poisson
//! bootstrap: the multinomial's limit, drawn row by row, so a resample is
//! one sequential pass and resamples run in parallel). Resample `b` draws
//! from its own ChaCha stream of the seed, so results do not depend on
//! the number of threads. Paired comparisons apply the same weights to
//! both models.

use crate::metrics::Metric;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How to resample.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Bootstrap {
    /// Resamples (0: no intervals).
    pub resamples: u32,
    /// The interval's coverage, as 0.95.
    pub confidence: f64,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A metric's value on all rows and its percentile interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub metric: Metric,
    /// None: undefined on these rows (one class only, no probabilities).
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Resamples on which the metric was undefined (left out of the
    /// interval).
    #[serde(skip_serializing_if = "is_zero")]
    pub undefined: u32,
}

/// A metric of two models on the same rows, and how much better the new
/// one is (negative: worse), with its interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delta {
    pub metric: Metric,
    pub new: Option<f64>,
    pub old: Option<f64>,
    /// New minus old, oriented so that positive is better.
    pub delta: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(skip_serializing_if = "is_zero")]
    pub undefined: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The Poisson(1) distribution's cumulative probabilities (from e^-1).
/// Evaluated at compile time, where an index out of bounds is a build
/// error, not a panic.
#[allow(clippy::indexing_slicing)]
const POISSON_CDF: [f64; 12] = {
    let mut cdf = [0.0; 12];
    let mut p = 0.367_879_441_171_442_33;
    let mut acc = 0.0;
    let mut k = 0;
    while k < 12 {
        acc += p;
        cdf[k] = acc;
        k += 1;
        p /= k as f64;
    }
    cdf
};

impl Bootstrap {
    /// Resample `b`'s weights for `rows` rows.
    pub fn weights(&self, b: u32, rows: usize) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(u64::from(b));
        (0..rows)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                // P(count > 11) is 1e-9: such a draw counts 11.
                POISSON_CDF.iter().position(|&c| u < c).unwrap_or(11) as u8
            })
            .collect()
    }

    /// Runs `f` (metrics of weighted rows) on all rows and on each
    /// resample; the interval of each metric it returns.
    pub fn estimate<F>(&self, rows: usize, f: F) -> Vec<Estimate>
    where
        F: Fn(&[u8]) -> Vec<(Metric, Option<f64>)> + Sync,
    {
        let point = f(&[]);
        let samples: Vec<Vec<Option<f64>>> = (0..self.resamples)
            .into_par_iter()
            .map(|b| {
                f(&self.weights(b, rows))
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect()
            })
            .collect();
        point
            .into_iter()
            .enumerate()
            .map(|(k, (metric, value))| {
                let (low, high, undefined) = self.column(&samples, k);
                Estimate {
                    metric,
                    value,
                    low,
                    high,
                    undefined,
                }
            })
            .collect()
    }

    /// The paired bootstrap of two models' metrics on the same rows:
    /// each resample weighs the rows once, for both. Per metric, the
    /// difference new minus old, oriented so that positive is better (old
    /// minus new for losses and errors), and its percentile interval.
    pub fn paired<F, G>(&self, rows: usize, new: F, old: G) -> Vec<Delta>
    where
        F: Fn(&[u8]) -> Vec<(Metric, Option<f64>)> + Sync,
        G: Fn(&[u8]) -> Vec<(Metric, Option<f64>)> + Sync,
    {
        let diff = |n: &[(Metric, Option<f64>)], o: &[(Metric, Option<f64>)]| -> Vec<Option<f64>> {
            n.iter()
                .zip(o)
                .map(|((m, a), (_, b))| {
                    let (a, b) = ((*a)?, (*b)?);
                    Some(if m.higher_is_better() { a - b } else { b - a })
                })
                .collect()
        };
        let (point_new, point_old) = (new(&[]), old(&[]));
        let point = diff(&point_new, &point_old);
        let samples: Vec<Vec<Option<f64>>> = (0..self.resamples)
            .into_par_iter()
            .map(|b| {
                let w = self.weights(b, rows);
                diff(&new(&w), &old(&w))
            })
            .collect();
        point_new
            .iter()
            .zip(&point_old)
            .zip(point)
            .enumerate()
            .map(|(k, (((metric, n), (_, o)), delta))| {
                let (low, high, undefined) = self.column(&samples, k);
                Delta {
                    metric: *metric,
                    new: *n,
                    old: *o,
                    delta,
                    low,
                    high,
                    undefined,
                }
            })
            .collect()
    }

    /// The interval of the `k`th value over the resamples, and on how
    /// many resamples it was undefined.
    fn column(&self, samples: &[Vec<Option<f64>>], k: usize) -> (Option<f64>, Option<f64>, u32) {
        let mut values: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.get(k).copied().flatten())
            .collect();
        let undefined = self.resamples - values.len() as u32;
        let (low, high) = self.interval(&mut values);
        (low, high, undefined)
    }

    /// The percentile interval of `values` (sorted here).
    pub fn interval(&self, values: &mut [f64]) -> (Option<f64>, Option<f64>) {
        values.sort_by(f64::total_cmp);
        let tail = (1.0 - self.confidence) / 2.0;
        (percentile(values, tail), percentile(values, 1.0 - tail))
    }
}

/// numpy's default (linear) percentile of sorted values, `q` in [0, 1].
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (sorted.get(lo)?, sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Classified;

    #[test]
    fn poisson_weights_have_mean_one_and_are_reproducible() {
        let b = Bootstrap::default();
        let w = b.weights(7, 100_000);
        let mean = w.iter().map(|&x| f64::from(x)).sum::<f64>() / w.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
        let zeros = w.iter().filter(|&&x| x == 0).count() as f64 / w.len() as f64;
        assert!((zeros - (-1.0f64).exp()).abs() < 0.01, "{zeros}");
        assert_eq!(w, b.weights(7, 100_000));
        assert_ne!(w, b.weights(8, 100_000));
        assert_ne!(w, Bootstrap { seed: 1, ..b }.weights(7, 100_000));
    }

    #[test]
    fn interval_holds_the_value_and_narrows_with_rows() {
        let width = |rows: usize| {
            let truth: Vec<u32> = (0..rows).map(|i| u32::from(i % 3 == 0)).collect();
            let predicted: Vec<u32> = (0..rows).map(|i| u32::from(i % 4 == 0)).collect();
            let c = Classified::new(truth, predicted, vec![], 2).unwrap();
            let b = Bootstrap {
                resamples: 200,
                ..Bootstrap::default()
            };
            let e = b.estimate(rows, |w| c.metrics(w));
            let acc = e.iter().find(|e| e.metric == Metric::Accuracy).unwrap();
            let (v, lo, hi) = (acc.value.unwrap(), acc.low.unwrap(), acc.high.unwrap());
            assert!(lo < v && v < hi, "{lo} {v} {hi}");
            hi - lo
        };
        let (small, big) = (width(300), width(30_000));
        assert!(big < small / 5.0, "{small} {big}");
    }

    #[test]
    fn percentiles_interpolate_as_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), Some(2.5));
        assert_eq!(percentile(&v, 0.025), Some(1.075));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
