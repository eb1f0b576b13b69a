//! Distances between two distributions, for drift: Wasserstein on the
//! values themselves, and PSI and Jensen-Shannon on shares of bins.
//!
//! Bins are made as Evidently makes them, so that the numbers can be set
//! side by side: for a numeric column with more than 20 distinct reference
//! values, Sturges' number of equal-width bins over both samples'
//! range (`numpy.histogram_bin_edges(both, "sturges")`); otherwise one bin
//! per value.

use crate::{merged, Weighted};

/// The first Wasserstein distance between two samples: the area between
/// their empirical CDFs (`scipy.stats.wasserstein_distance`).
pub fn wasserstein(a: &Weighted, b: &Weighted) -> f64 {
    let n1: f64 = a.iter().map(|p| p.1).sum();
    let n2: f64 = b.iter().map(|p| p.1).sum();
    if n1 == 0.0 || n2 == 0.0 {
        return f64::NAN;
    }
    let (mut c1, mut c2) = (0.0, 0.0);
    let mut area = 0.0;
    let mut last: Option<(f64, f64)> = None;
    for (x, wa, wb) in merged(a, b) {
        if let Some((prev, gap)) = last {
            area += gap * (x - prev);
        }
        c1 += wa;
        c2 += wb;
        last = Some((x, (c1 / n1 - c2 / n2).abs()));
    }
    area
}

/// Bin edges for the values of both samples, from their joint minimum,
/// maximum and count: `numpy.histogram_bin_edges(both, bins="sturges")`.
/// `integers` applies numpy's rule for integer arrays (bins at least 1
/// wide).
pub fn sturges_edges(min: f64, max: f64, count: f64, integers: bool) -> Vec<f64> {
    let (mut first, mut last) = (min, max);
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let mut width = (max - min) / (count.log2() + 1.0);
    let bins = if width > 0.0 && width.is_finite() {
        if integers && width < 1.0 {
            width = 1.0;
        }
        ((last - first) / width).ceil().clamp(1.0, MAX_BINS as f64) as usize
    } else {
        1
    };
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + first).collect();
    if let Some(e) = edges.last_mut() {
        *e = last;
    }
    edges
}

/// More bins than this are never made (Sturges gives 64 for 2^63 values;
/// integers a bin wide could otherwise ask for billions).
pub const MAX_BINS: usize = 100_000;

/// Weights per bin, `numpy.histogram(sample, edges)`: bin i holds
/// `edges[i] <= x < edges[i + 1]`, the last also its right edge.
pub fn histogram(sample: &Weighted, edges: &[f64]) -> Vec<f64> {
    let bins = edges.len().saturating_sub(1);
    let mut out = vec![0.0; bins];
    let mut bin = 0;
    for &(x, w) in sample {
        while bin + 1 < bins && edges.get(bin + 1).is_some_and(|&e| x >= e) {
            bin += 1;
        }
        let inside = edges.first().is_some_and(|&e| x >= e)
            && edges.last().is_some_and(|&e| x <= e)
            && (bin + 1 == bins || edges.get(bin + 1).is_some_and(|&e| x < e));
        if inside {
            if let Some(slot) = out.get_mut(bin) {
                *slot += w;
            }
        }
    }
    out
}

/// Two samples' shares of the same bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Binned {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// Reference values above which a numeric column is binned by Sturges'
/// rule rather than by value (Evidently's choice).
pub const MAX_VALUE_BINS: usize = 20;

impl Binned {
    /// Bins two numeric samples as Evidently does; `integers` when the
    /// column holds only integers.
    pub fn new(reference: &Weighted, current: &Weighted, integers: bool) -> Binned {
        let n1: f64 = reference.iter().map(|p| p.1).sum();
        let n2: f64 = current.iter().map(|p| p.1).sum();
        if reference.len() > MAX_VALUE_BINS {
            let ends = |s: &Weighted| (s.first().map(|p| p.0), s.last().map(|p| p.0));
            let (a, b) = (ends(reference), ends(current));
            let min = [a.0, b.0]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min);
            let max = [a.1, b.1]
                .into_iter()
                .flatten()
                .fold(f64::NEG_INFINITY, f64::max);
            let edges = sturges_edges(min, max, n1 + n2, integers);
            return Binned {
                reference: shares(&histogram(reference, &edges), n1, false),
                current: shares(&histogram(current, &edges), n2, false),
            };
        }
        // One bin per value of either side.
        let (r, c) = merged(reference, current)
            .map(|(_, wa, wb)| (wa / n1, wb / n2))
            .unzip();
        Binned {
            reference: r,
            current: c,
        }
    }

    /// Bins two samples of categories, given each category's
    /// `(reference count, current count)`.
    pub fn categories(counts: &[(f64, f64)]) -> Binned {
        let n1: f64 = counts.iter().map(|c| c.0).sum();
        let n2: f64 = counts.iter().map(|c| c.1).sum();
        Binned {
            reference: counts.iter().map(|c| c.0 / n1).collect(),
            current: counts.iter().map(|c| c.1 / n2).collect(),
        }
    }

    /// The population stability index, empty bins zero-filled.
    pub fn psi(&self) -> f64 {
        psi(
            &shares(&self.reference, 1.0, true),
            &shares(&self.current, 1.0, true),
        )
    }

    pub fn jensen_shannon(&self) -> f64 {
        jensen_shannon(&self.reference, &self.current)
    }
}

/// Shares of a total, with empty bins given a small share (Evidently's
/// rule: a millionth of the smallest share, or 0.0001 if that is larger)
/// so that logarithms stay finite.
pub fn shares(counts: &[f64], total: f64, fill_zeroes: bool) -> Vec<f64> {
    let mut s: Vec<f64> = counts.iter().map(|c| c / total).collect();
    if fill_zeroes {
        let smallest = s
            .iter()
            .copied()
            .filter(|&x| x != 0.0)
            .fold(f64::INFINITY, f64::min);
        if smallest.is_finite() {
            let fill = if smallest <= 0.0001 {
                smallest / 1e6
            } else {
                0.0001
            };
            s.iter_mut().filter(|x| **x == 0.0).for_each(|x| *x = fill);
        }
    }
    s
}

/// The population stability index of current shares against reference
/// shares (both zero-filled).
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(r, c)| (r - c) * (r / c).ln())
        .sum()
}

/// The Jensen-Shannon distance (natural logarithm), the square root of the
/// divergence: `scipy.spatial.distance.jensenshannon(p, q)`.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if sp <= 0.0 || sq <= 0.0 {
        return f64::NAN;
    }
    let rel = |x: f64, y: f64| {
        if x > 0.0 && y > 0.0 {
            x * (x / y).ln()
        } else if x == 0.0 && y >= 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    };
    let (mut left, mut right) = (0.0, 0.0);
    for (&x, &y) in p.iter().zip(q) {
        let (x, y) = (x / sp, y / sq);
        let m = (x + y) / 2.0;
        left += rel(x, m);
        right += rel(y, m);
    }
    ((left + right) / 2.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_of_a_shift_is_the_shift() {
        let a: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
        let b: Vec<(f64, f64)> = a.iter().map(|&(x, w)| (x + 2.5, w)).collect();
        assert!((wasserstein(&a, &b) - 2.5).abs() < 1e-12);
        assert_eq!(wasserstein(&a, &a), 0.0);
    }

    #[test]
    fn histogram_closes_the_last_bin_only() {
        let edges = sturges_edges(0.0, 4.0, 4.0, false);
        assert_eq!(edges, vec![0.0, 4.0 / 3.0, 8.0 / 3.0, 4.0]);
        let counts = histogram(&[(0.0, 1.0), (4.0 / 3.0, 2.0), (4.0, 3.0)], &edges);
        assert_eq!(counts, vec![1.0, 2.0, 3.0]);
        assert_eq!(sturges_edges(3.0, 3.0, 10.0, false), vec![2.5, 3.5]);
    }

    #[test]
    fn value_bins_are_the_union_of_values() {
        let a = [(1.0, 2.0), (3.0, 2.0)];
        let b = [(2.0, 1.0), (3.0, 3.0)];
        let binned = Binned::new(&a, &b, true);
        assert_eq!(binned.reference, vec![0.5, 0.0, 0.5]);
        assert_eq!(binned.current, vec![0.0, 0.25, 0.75]);
        // Few reference values and very many current ones: still one pass.
        let many: Vec<(f64, f64)> = (0..200_000).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(Binned::new(&a, &many, true).current.len(), 200_000);
    }

    #[test]
    fn identical_shares_have_no_distance() {
        let s = shares(&[1.0, 0.0, 3.0], 4.0, true);
        assert_eq!(s[1], 0.0001);
        assert_eq!(psi(&s, &s), 0.0);
        assert_eq!(jensen_shannon(&s, &s), 0.0);
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]) - 2f64.ln().sqrt()).abs() < 1e-15);
    }
}
