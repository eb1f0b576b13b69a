//! The two-sample Kolmogorov-Smirnov test, two-sided, as
//! `scipy.stats.ks_2samp(a, b, method="auto")` computes it: the exact
//! distribution when neither sample exceeds 10,000 values (Hodges' lattice
//! path counts), else the one-sample Kolmogorov distribution at
//! `n = round(m n / (m + n))`, evaluated as Simard and L'Ecuyer (2011)
//! recommend (Ruben-Gambino, Durbin's matrix after Marsaglia-Tsang-Wang,
//! Pomeranz, Pelz-Good, and the exact Smirnov sum).
//!
//! Every loop is bounded by the sample sizes, and every array access is
//! checked: sizes come from files that may be hostile.

/// Above this many values in either sample the p-value is asymptotic, as in
/// scipy (`MAX_AUTO_N`).
pub const MAX_EXACT_N: u64 = 10_000;

use crate::{merged, Weighted};

/// A two-sided KS test's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ks {
    /// The largest distance between the two empirical CDFs.
    pub statistic: f64,
    pub p_value: f64,
    /// Whether the p-value came from the exact distribution.
    pub exact: bool,
}

/// The largest distance between the empirical CDFs of two samples, each
/// given as `(value, count)` pairs in increasing value order. The
/// weights are counts; differences are computed as scipy does (`c1 / n1 - c2 / n2` at every
/// value), so that the statistic is the same to the last bit.
pub fn statistic(a: &Weighted, b: &Weighted) -> f64 {
    let n1: f64 = a.iter().map(|p| p.1).sum();
    let n2: f64 = b.iter().map(|p| p.1).sum();
    if n1 == 0.0 || n2 == 0.0 {
        return 0.0;
    }
    let (mut c1, mut c2) = (0.0, 0.0);
    let (mut max, mut min) = (f64::NEG_INFINITY, f64::INFINITY);
    for (_, wa, wb) in merged(a, b) {
        c1 += wa;
        c2 += wb;
        let diff = c1 / n1 - c2 / n2;
        max = max.max(diff);
        min = min.min(diff);
    }
    let below = (-min).clamp(0.0, 1.0);
    if below > max {
        below
    } else {
        max
    }
}

/// The two-sided test on two samples of sizes `n1` and `n2` whose
/// statistic is `d`.
pub fn test(n1: u64, n2: u64, d: f64) -> Ks {
    if n1 == 0 || n2 == 0 || !d.is_finite() {
        return Ks {
            statistic: d,
            p_value: f64::NAN,
            exact: false,
        };
    }
    let mut d = d;
    if n1.max(n2) <= MAX_EXACT_N {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round_ties_even() as u64;
        d = h as f64 / lcm as f64;
        if h == 0 {
            return Ks {
                statistic: d,
                p_value: 1.0,
                exact: true,
            };
        }
        let p = if n1 == n2 {
            outside_square(n1, h)
        } else {
            outside_inside_method(n1, n2, g, h)
        };
        if (0.0..=1.0).contains(&p) {
            return Ks {
                statistic: d,
                p_value: p,
                exact: true,
            };
        }
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even();
    Ks {
        statistic: d,
        p_value: kolmogorov_sf(en as u64, d).clamp(0.0, 1.0),
        exact: false,
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Pr(D_{n,n} >= h/n): the share of lattice paths leaving the band
/// |x - y| < h, as an alternating sum evaluated Horner-style.
fn outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// Pr(D_{m,n} >= h/lcm) for m != n: one minus the share of lattice paths
/// from (0, 0) to (m, n) that stay strictly inside |nx - my| < h g, kept
/// as a sliding column of the path-count matrix already divided by the
/// binomial coefficients (Hodges 1958; Viehmann 2021 for computing the
/// complement directly).
fn outside_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (n, h) = (n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| -(-a).div_euclid(b);
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n + 1).max(1) as usize;
    let mut a = vec![1.0f64; len];
    for x in a.iter_mut().take(maxj.max(0) as usize) {
        *x = 0.0;
    }
    for i in 1..=m as i64 {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - h).div_euclid(mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let (fi, shift) = (i as f64, minj - lastminj);
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            let prev = a.get((jj + shift) as usize).copied().unwrap_or(1.0);
            val = (prev * fi + val * j) / (fi + j);
            if let Some(slot) = a.get_mut(jj as usize) {
                *slot = val;
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let from = (maxj - minj) as usize;
            let to = (from + (lastlen - curlen) as usize).min(a.len());
            for x in a.iter_mut().take(to).skip(from) {
                *x = 1.0;
            }
        }
    }
    a.get((maxj - minj - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

const EP128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128

/// Pr(D_n > x) for the one-sample two-sided statistic with `n` values:
/// scipy's `kstwo.sf(x, n)`.
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    if n > MAX_FINITE_N {
        return kolmogorov_limit_sf(nf.sqrt() * x);
    }
    let t = nf * x;
    if t <= 1.0 {
        // Ruben-Gambino: 1/2n <= x <= 1/n.
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |p, i| p * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0)))
        } else {
            (log_factorial_over_power(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxx = t * x;
    if n <= 140 {
        if nxx <= 0.754693 {
            return (1.0 - durbin_cdf(n, x)).clamp(0.0, 1.0);
        }
        if nxx <= 4.0 {
            return (1.0 - pomeranz_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxx >= 370.0 {
        return 0.0;
    }
    if nxx >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// Above this many values (a profile may claim any count) the limiting
/// distribution is used: the exact Smirnov sum has a term per value, and
/// at this size the limit is within about 1e-4 of the exact tail.
pub const MAX_FINITE_N: u64 = 10_000_000;

/// Kolmogorov's limiting tail, Pr(sqrt(n) D_n > z) as n grows:
/// 2 sum (-1)^(k-1) exp(-2 k^2 z^2).
fn kolmogorov_limit_sf(z: f64) -> f64 {
    if z <= 0.0 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = f64::from(k);
        let term = (-2.0 * kf * kf * z * z).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// log(n! / n^n) by Stirling's series.
fn log_factorial_over_power(n: f64) -> f64 {
    const C: [f64; 8] = [
        -2.955_065_359_477_124e-2,
        6.410_256_410_256_41e-3,
        -1.917_526_917_526_917_6e-3,
        8.417_508_417_508_417e-4,
        -5.952_380_952_380_952e-4,
        7.936_507_936_507_937e-4,
        -2.777_777_777_777_778e-3,
        8.333_333_333_333_333e-2,
    ];
    let rn = 1.0 / n;
    let poly = C.iter().fold(0.0, |acc, c| acc * (rn / n) + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// Pr(D+_n > x), the one-sided statistic, by Birnbaum and Tingey's sum of
/// positive terms, each evaluated in logarithms (the binomial coefficient
/// accumulated term by term, so that no large log-gammas cancel).
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let last = (nf * (1.0 - x)).floor() as u64;
    let mut log_binom = 0.0f64;
    let mut sum = 0.0f64;
    let mut compensation = 0.0f64;
    for v in 0..=last.min(n) {
        let vf = v as f64;
        let evn = x + vf / nf;
        let rest = 1.0 - evn;
        if rest > 0.0 || v == n {
            let log_term = log_binom
                + (vf - 1.0) * evn.ln()
                + if v == n { 0.0 } else { (nf - vf) * rest.ln() };
            if log_term > -745.0 {
                // Kahan summation: up to n terms of similar size.
                let y = log_term.exp() - compensation;
                let s = sum + y;
                compensation = (s - sum) - y;
                sum = s;
            }
        }
        log_binom += ((nf - vf) / (vf + 1.0)).ln();
    }
    sum * x
}

/// Pr(D_n <= x) by Durbin's matrix, raised to the n-th power by squaring
/// with rescaling (Marsaglia, Tsang and Wang 2003).
fn durbin_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    if x >= 1.0 {
        return 1.0;
    }
    let nd = nf * x;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        if let (Some(wj), Some(vj)) = (w.get_mut(j - 1), v.get_mut(j - 1)) {
            *wj = fac;
            fac /= j as f64;
            *vj = (1.0 - h.powi(j as i32)) * fac;
        }
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    if let Some(last) = v.last_mut() {
        *last = (1.0 + tt) * fac;
    }
    let mut hm = Matrix::zeros(m);
    for col in 1..m {
        for row in (col - 1)..m {
            hm.set(row, col, w.get(row + 1 - col).copied().unwrap_or(0.0));
        }
    }
    for row in 0..m {
        hm.set(row, 0, v.get(row).copied().unwrap_or(0.0));
    }
    for col in 0..m {
        hm.set(m - 1, col, v.get(m - 1 - col).copied().unwrap_or(0.0));
    }
    let mut power = Matrix::identity(m);
    let (mut nn, mut expnt, mut h_expnt) = (n, 0i32, 0i32);
    while nn > 0 {
        if nn % 2 == 1 {
            power = power.mul(&hm);
            expnt += h_expnt;
        }
        hm = hm.mul(&hm);
        h_expnt *= 2;
        if hm.get(k - 1, k - 1).abs() > EP128 {
            hm.scale(1.0 / EP128);
            h_expnt += 128;
        }
        nn /= 2;
    }
    let mut p = power.get(k - 1, k - 1);
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= 128;
        }
    }
    ldexp(p, expnt).clamp(0.0, 1.0)
}

fn ldexp(x: f64, e: i32) -> f64 {
    // Two steps so that 2^e itself neither overflows nor underflows.
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

/// A small dense square matrix, row-major.
struct Matrix {
    n: usize,
    a: Vec<f64>,
}

impl Matrix {
    fn zeros(n: usize) -> Matrix {
        Matrix {
            n,
            a: vec![0.0; n * n],
        }
    }
    fn identity(n: usize) -> Matrix {
        let mut m = Matrix::zeros(n);
        for i in 0..n {
            m.set(i, i, 1.0);
        }
        m
    }
    fn get(&self, r: usize, c: usize) -> f64 {
        self.a.get(r * self.n + c).copied().unwrap_or(0.0)
    }
    fn set(&mut self, r: usize, c: usize, x: f64) {
        if let Some(slot) = self.a.get_mut(r * self.n + c) {
            *slot = x;
        }
    }
    fn scale(&mut self, s: f64) {
        self.a.iter_mut().for_each(|x| *x *= s);
    }
    fn mul(&self, o: &Matrix) -> Matrix {
        let n = self.n;
        let mut out = Matrix::zeros(n);
        for (r, out_row) in out.a.chunks_exact_mut(n).enumerate() {
            let row = self.a.chunks_exact(n).nth(r).unwrap_or(&[]);
            for (x, o_row) in row.iter().zip(o.a.chunks_exact(n)) {
                for (y, z) in out_row.iter_mut().zip(o_row) {
                    *y += x * z;
                }
            }
        }
        out
    }
}

/// Pr(D_n <= x) by Pomeranz's recursion (1974): alternating convolutions
/// with powers of g/n, 2g/n and (1-2g)/n.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let series = |ratio: f64| {
        let mut p = vec![1.0; npwrs];
        for m in 1..npwrs {
            let prev = p.get(m - 1).copied().unwrap_or(0.0);
            if let Some(slot) = p.get_mut(m) {
                *slot = prev * ratio / m as f64;
            }
        }
        p
    };
    let gpower = series(g / nf);
    let twogpower = series(2.0 * g / nf);
    let onem2gpower = series((1.0 - 2.0 * g) / nf);
    let n = n as i64;
    let bounds = |i: i64| -> (i64, i64) {
        let (j1, j2) = if i == 0 {
            (-ll - ceilf - 1, ll + ceilf - 1)
        } else {
            let (half, odd) = ((i + 1) / 2, (i + 1) % 2 == 0);
            if odd {
                if half == n + 1 {
                    (n - ll - ceilf - 1, n + ll + ceilf - 1)
                } else {
                    (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
                }
            } else {
                (half - 1 - ll - 1, half + ll + roundf - 1)
            }
        };
        ((j1 + 2).max(0), j2.min(n))
    };
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    if let Some(first) = v1.first_mut() {
        *first = 1.0;
    }
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt = 0i32;
    let (mut j1, mut _j2) = bounds(0);
    for i in 1..=(2 * n + 1) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (a, b) = bounds(i);
        (j1, _j2) = (a, b);
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = b - k1 + 1;
        if ln2 > 0 {
            let start = (k1 - v0s).max(0) as usize;
            let src: &[f64] = v0.get(start..).unwrap_or(&[]);
            let src = src.get(..(ln2 as usize).min(src.len())).unwrap_or(&[]);
            let kern = pwrs.get(..(ln2 as usize).min(pwrs.len())).unwrap_or(&[]);
            let conv_start = (a - k1).max(0) as usize;
            let conv_len = (b - a + 1).max(0) as usize;
            for (idx, out) in v1.iter_mut().enumerate().take(conv_len) {
                let kk = conv_start + idx;
                let mut s = 0.0;
                for (ii, x) in src.iter().enumerate().take(kk + 1) {
                    if let Some(y) = kern.get(kk - ii) {
                        s += x * y;
                    }
                }
                *out = s;
            }
            let max = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if max > 0.0 && max < EM128 {
                v1.iter_mut().for_each(|x| *x *= EP128);
                expnt -= 128;
            }
            v1s = v0s + a - k1;
        }
    }
    let mut ans = v1.get((n - v1s).max(0) as usize).copied().unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > EP128 {
            ans *= EM128;
            expnt += 128;
        }
        ans *= m as f64;
    }
    ldexp(ans, expnt).clamp(0.0, 1.0)
}

/// Pr(D_n <= x) by Pelz and Good's (1976) expansion in 1/sqrt(n), the
/// Kolmogorov series transformed with theta functions to converge for
/// small z = x sqrt(n).
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as u64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * kk as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (s, c) in k.iter_mut().zip(coeffs) {
            *s = *s * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (s, d) in k.iter_mut().zip(denominators) {
        *s = *s * q * sqrt2pi / d;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut extra2, mut extra3) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let k2 = kf * kf;
        let qp = q.powf(k2);
        extra2 += k2 * qp;
        let kpi = PI * kf;
        extra3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
    }
    k[2] += extra2 * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += extra3 * pi2 * sqrt2pi / (216.0 * z6);
    k.iter()
        .enumerate()
        .map(|(i, s)| s / nf.powf(i as f64 / 2.0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_agree_where_they_meet() {
        // Durbin and Pomeranz are both exact: they must agree anywhere.
        for n in [10u64, 50, 140] {
            for x in [0.08, 0.1, 0.15, 0.2] {
                let (d, p) = (durbin_cdf(n, x), pomeranz_cdf(n, x));
                assert!((d - p).abs() < 1e-12, "n={n} x={x}: {d} vs {p}");
            }
        }
        // Pelz-Good approximates the exact values closely for large n.
        let (d, p) = (durbin_cdf(5_000, 0.01), pelz_good_cdf(5_000, 0.01));
        assert!((d - p).abs() < 1e-6, "{d} vs {p}");
        // Two Smirnov tails approximate the two-sided tail when small.
        let exact = 1.0 - pomeranz_cdf(100, 0.19);
        assert!((exact - 2.0 * smirnov_sf(100, 0.19)).abs() < 1e-5 * exact.max(1e-3));
    }

    #[test]
    fn statistic_of_identical_and_disjoint_samples() {
        let a = [(1.0, 2.0), (2.0, 1.0)];
        assert_eq!(statistic(&a, &a), 0.0);
        assert_eq!(statistic(&[(1.0, 3.0)], &[(2.0, 5.0)]), 1.0);
        assert_eq!(test(3, 3, 0.0).p_value, 1.0);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any sizes and distance give a probability, and a larger
        /// distance never a larger one.
        #[test]
        fn p_values_are_probabilities_falling_with_distance(
            n1 in 1u64..3_000, n2 in 1u64..3_000, d in 0.0f64..1.0, more in 0.0f64..0.2,
        ) {
            let (a, b) = (test(n1, n2, d), test(n1, n2, (d + more).min(1.0)));
            prop_assert!((0.0..=1.0).contains(&a.p_value), "{a:?}");
            prop_assert!(b.p_value <= a.p_value + 1e-12, "{a:?} then {b:?}");
        }

        #[test]
        fn kolmogorov_tail_is_a_probability(n in 1u64..400_000, x in -0.5f64..1.5) {
            let p = kolmogorov_sf(n, x);
            prop_assert!((0.0..=1.0).contains(&p), "n={n} x={x}: {p}");
        }
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    /// A count no file holds (a hostile profile's) is answered at once, by
    /// the limit, which agrees with the exact tail near the cut-over.
    #[test]
    fn huge_counts_use_the_limit() {
        let start = std::time::Instant::now();
        let p = kolmogorov_sf(u64::MAX, 1e-9);
        assert!((0.0..=1.0).contains(&p));
        assert!(start.elapsed().as_secs() < 1);
        let n = MAX_FINITE_N;
        let x = 1.2 / (n as f64).sqrt();
        let (exact, limit) = (kolmogorov_sf(n, x), kolmogorov_sf(n + 1, x));
        assert!((exact - limit).abs() < 1e-3 * exact, "{exact} vs {limit}");
    }
}
