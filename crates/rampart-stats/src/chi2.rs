//! The chi-squared test of homogeneity between two samples of a
//! categorical variable: scipy's `chi2_contingency` on the 2 x k table of
//! counts, without Yates' correction. Unlike a goodness-of-fit test
//! against the reference's shares (Evidently's choice), it treats the
//! reference as the sample it is.

/// A chi-squared test's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chi2 {
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
}

/// Tests whether two samples share one distribution over categories,
/// given each category's `(reference count, current count)`. Categories
/// absent from both are ignored.
pub fn homogeneity(counts: &[(f64, f64)]) -> Chi2 {
    let counts: Vec<(f64, f64)> = counts
        .iter()
        .copied()
        .filter(|&(a, b)| a + b > 0.0)
        .collect();
    let n1: f64 = counts.iter().map(|c| c.0).sum();
    let n2: f64 = counts.iter().map(|c| c.1).sum();
    let total = n1 + n2;
    let dof = counts.len().saturating_sub(1) as u64;
    if dof == 0 || n1 == 0.0 || n2 == 0.0 {
        return Chi2 {
            statistic: 0.0,
            dof,
            p_value: 1.0,
        };
    }
    let mut statistic = 0.0;
    for &(a, b) in &counts {
        let column = a + b;
        for (observed, row) in [(a, n1), (b, n2)] {
            let expected = row * column / total;
            statistic += (observed - expected).powi(2) / expected;
        }
    }
    Chi2 {
        statistic,
        dof,
        p_value: sf(statistic, dof),
    }
}

/// The chi-squared distribution's survival function: Q(k/2, x/2).
pub fn sf(x: f64, dof: u64) -> f64 {
    if x.is_nan() || dof == 0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    upper_gamma(dof as f64 / 2.0, x / 2.0).clamp(0.0, 1.0)
}

/// The regularised upper incomplete gamma function Q(a, x), for a > 0 and
/// x > 0: by its series when x < a + 1 (as 1 - P), else by its continued
/// fraction (modified Lentz), the prefactor in logarithms.
fn upper_gamma(a: f64, x: f64) -> f64 {
    const EPS: f64 = f64::EPSILON;
    const MAX_ITERATIONS: u32 = 100_000;
    let prefactor = (-x + a * x.ln() - libm::lgamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..MAX_ITERATIONS {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * EPS {
                break;
            }
        }
        return 1.0 - sum * prefactor;
    }
    let tiny = f64::MIN_POSITIVE / EPS;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_ITERATIONS {
        let an = -f64::from(i) * (f64::from(i) - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    prefactor * h
}
