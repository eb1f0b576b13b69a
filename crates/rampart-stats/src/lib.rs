//! Two-sample statistics for drift between a reference and a current
//! sample: the Kolmogorov-Smirnov test (`ks`), the chi-squared test of
//! homogeneity (`chi2`), the distances PSI, Jensen-Shannon and Wasserstein
//! (`distance`), and multiple-test corrections (`correct`).
//!
//! Each statistic is defined as scipy (and, for binned distances, Evidently)
//! defines it, so that results can be compared number for number: the tests
//! check against values scipy computed (`tests/fixtures/scipy.json`, made
//! by `tools/drift_fixtures.py`) to 1e-9.

pub mod chi2;
pub mod correct;
pub mod distance;
pub mod ks;

/// A sample as distinct values with their weights (counts), in increasing
/// value order.
pub type Weighted = [(f64, f64)];

/// A sample as a [`Weighted`] one: sorted, each distinct value once with
/// how many times it occurs.
pub fn weighted(mut values: Vec<f64>) -> Vec<(f64, f64)> {
    values.sort_by(f64::total_cmp);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for x in values {
        match out.last_mut() {
            Some(last) if last.0 == x => last.1 += 1.0,
            _ => out.push((x, 1.0)),
        }
    }
    out
}

/// Two samples walked together in increasing value order: each value of
/// either, with its weight in `a` and in `b` (0 where it is absent). Every
/// statistic here is a fold over this walk. NaN values are skipped, so the
/// walk always ends.
pub fn merged<'a>(a: &'a Weighted, b: &'a Weighted) -> impl Iterator<Item = (f64, f64, f64)> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        while a.get(i).is_some_and(|p| p.0.is_nan()) {
            i += 1;
        }
        while b.get(j).is_some_and(|q| q.0.is_nan()) {
            j += 1;
        }
        let x = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) => p.0.min(q.0),
            (Some(p), None) => p.0,
            (None, Some(q)) => q.0,
            (None, None) => return None,
        };
        let (mut wa, mut wb) = (0.0, 0.0);
        while let Some(&(_, w)) = a.get(i).filter(|p| p.0 <= x) {
            wa += w;
            i += 1;
        }
        while let Some(&(_, w)) = b.get(j).filter(|q| q.0 <= x) {
            wb += w;
            j += 1;
        }
        Some((x, wa, wb))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_merges_values_and_skips_nan() {
        let a = weighted(vec![2.0, 1.0, 2.0]);
        assert_eq!(a, vec![(1.0, 1.0), (2.0, 2.0)]);
        let b = [(f64::NAN, 5.0), (2.0, 1.0), (3.0, 1.0), (f64::NAN, 1.0)];
        let walk: Vec<_> = merged(&a, &b).collect();
        assert_eq!(
            walk,
            vec![(1.0, 1.0, 0.0), (2.0, 2.0, 1.0), (3.0, 0.0, 1.0)]
        );
        // Values a hostile profile could hold: the statistics still end.
        assert!(ks::statistic(&b, &b) <= 1.0);
        assert!(distance::wasserstein(&a, &b).is_finite());
    }
}
