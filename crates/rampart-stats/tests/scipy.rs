//! Every statistic against the value scipy computed for the same input
//! (`tools/drift_fixtures.py` wrote the fixture; the samples are generated
//! here bit for bit as there).

#![cfg(test)]

use rampart_stats::{chi2, correct, distance, ks, weighted};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/scipy.json")).unwrap()
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sample a `[seed, n, shift, scale, step]` spec names, as
/// `tools/drift_fixtures.py` makes it.
fn sample(spec: &Value) -> Vec<f64> {
    let f = |i: usize| spec[i].as_f64().unwrap();
    let (mut state, n) = (spec[0].as_u64().unwrap(), spec[1].as_u64().unwrap());
    let (shift, scale, step) = (f(2), f(3), f(4));
    (0..n)
        .map(|_| {
            let mut u = 0.0;
            for _ in 0..3 {
                u += (splitmix(&mut state) >> 11) as f64 * 2f64.powi(-53);
            }
            let x = shift + scale * (u - 1.5);
            if step > 0.0 {
                (x / step).floor() * step
            } else {
                x
            }
        })
        .collect()
}

fn close(what: &str, got: f64, want: f64) {
    let scale = want.abs().max(1.0);
    assert!(
        (got - want).abs() <= TOLERANCE * scale,
        "{what}: got {got:e}, scipy {want:e}"
    );
}

/// p-values are compared relative to their size, so that tiny ones count.
fn close_p(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOLERANCE * want.abs().max(1e-300) || (got - want).abs() < 1e-300,
        "{what}: got {got:e}, scipy {want:e}"
    );
}

#[test]
fn two_sample_statistics_equal_scipy() {
    for case in fixture()["pairs"].as_array().unwrap() {
        let (a, b) = (sample(&case["reference"]), sample(&case["current"]));
        let what = format!("{} vs {}", case["reference"], case["current"]);
        let (n1, n2) = (a.len() as u64, b.len() as u64);
        let std = {
            let mean = a.iter().sum::<f64>() / a.len() as f64;
            (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
        };
        close(&what, std, case["reference_std"].as_f64().unwrap());
        let (a, b) = (weighted(a), weighted(b));
        let d = ks::statistic(&a, &b);
        close(
            &format!("KS D {what}"),
            d,
            case["ks_statistic"].as_f64().unwrap(),
        );
        let t = ks::test(n1, n2, d);
        close_p(
            &format!("KS p {what}"),
            t.p_value,
            case["ks_pvalue"].as_f64().unwrap(),
        );
        assert_eq!(t.exact, n1.max(n2) <= ks::MAX_EXACT_N);
        close(
            &format!("Wasserstein {what}"),
            distance::wasserstein(&a, &b),
            case["wasserstein"].as_f64().unwrap(),
        );

        let binned = distance::Binned::new(&a, &b, case["integers"].as_bool().unwrap());
        assert_eq!(
            binned.reference.len() as u64,
            case["bins"].as_u64().unwrap(),
            "{what}"
        );
        close(
            &format!("PSI {what}"),
            binned.psi(),
            case["psi"].as_f64().unwrap(),
        );
        close(
            &format!("JS {what}"),
            binned.jensen_shannon(),
            case["jensenshannon"].as_f64().unwrap(),
        );
    }
}

#[test]
fn kolmogorov_distribution_equals_scipy_in_every_branch() {
    for case in fixture()["kolmogorov_sf"].as_array().unwrap() {
        let (n, x, want) = (
            case[0].as_u64().unwrap(),
            case[1].as_f64().unwrap(),
            case[2].as_f64().unwrap(),
        );
        close_p(
            &format!("kstwo.sf({x}, {n})"),
            ks::kolmogorov_sf(n, x),
            want,
        );
    }
}

#[test]
fn chi_squared_equals_scipy() {
    let f = fixture();
    for case in f["chi2_contingency"].as_array().unwrap() {
        let rows: Vec<Vec<f64>> = case[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect();
        let counts: Vec<(f64, f64)> = rows[0]
            .iter()
            .copied()
            .zip(rows[1].iter().copied())
            .collect();
        let got = chi2::homogeneity(&counts);
        close("chi2 statistic", got.statistic, case[1].as_f64().unwrap());
        assert_eq!(got.dof, case[2].as_u64().unwrap());
        close_p("chi2 p", got.p_value, case[3].as_f64().unwrap());
    }
    for case in f["chi2_sf"].as_array().unwrap() {
        let (x, k, want) = (
            case[0].as_f64().unwrap(),
            case[1].as_u64().unwrap(),
            case[2].as_f64().unwrap(),
        );
        close_p(&format!("chi2.sf({x}, {k})"), chi2::sf(x, k), want);
    }
}

#[test]
fn benjamini_hochberg_equals_scipy() {
    let f = fixture();
    let p: Vec<f64> = f["benjamini_hochberg"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let got = correct::adjust(&p, correct::Correction::BenjaminiHochberg);
    for (g, w) in got
        .iter()
        .zip(f["benjamini_hochberg"][1].as_array().unwrap())
    {
        close("BH", *g, w.as_f64().unwrap());
    }
}
