//! Corrections for testing many columns at once: without one, twenty
//! columns tested at 5% raise a false alarm in most runs.

/// How p-values of several tests are adjusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Correction {
    /// Controls the false discovery rate (Benjamini and Hochberg 1995).
    #[cfg_attr(feature = "clap", value(name = "bh"))]
    BenjaminiHochberg,
    /// Controls the chance of any false alarm (Bonferroni).
    Bonferroni,
    /// No correction.
    None,
}

/// The adjusted p-values, in the order given, as
/// `statsmodels.stats.multitest.multipletests` computes them
/// (`fdr_bh`, `bonferroni`). NaN stays NaN and is not counted as a test.
pub fn adjust(p: &[f64], how: Correction) -> Vec<f64> {
    let m = p.iter().filter(|x| !x.is_nan()).count() as f64;
    match how {
        Correction::None => p.to_vec(),
        Correction::Bonferroni => p
            .iter()
            .map(|&x| if x.is_nan() { x } else { (x * m).min(1.0) })
            .collect(),
        Correction::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..p.len())
                .filter(|&i| p.get(i).is_some_and(|x| !x.is_nan()))
                .collect();
            order.sort_by(|&a, &b| {
                p.get(b)
                    .partial_cmp(&p.get(a))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let mut out = p.to_vec();
            let mut running = 1.0f64;
            for (k, &i) in order.iter().enumerate() {
                // `order` runs from the largest p-value (rank m) down.
                let rank = m - k as f64;
                let x = p.get(i).copied().unwrap_or(f64::NAN);
                running = running.min(x * m / rank);
                if let Some(slot) = out.get_mut(i) {
                    *slot = running.min(1.0);
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benjamini_hochberg_by_hand() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5.
        let got = adjust(&[0.03, 0.5, 0.01, 0.02], Correction::BenjaminiHochberg);
        for (g, w) in got.iter().zip([0.04, 0.5, 0.04, 0.04]) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
        let got = adjust(&[0.03, f64::NAN, 0.3], Correction::Bonferroni);
        assert_eq!(got[0], 0.06);
        assert!(got[1].is_nan());
        assert!((got[2] - 0.6).abs() < 1e-15);
        assert_eq!(adjust(&[0.2], Correction::None), vec![0.2]);
    }
}
