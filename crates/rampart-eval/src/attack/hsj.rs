//! HopSkipJump (Chen, Jordan and Wainwright, 2020), L2, from decisions
//! alone: from a point on the boundary, estimate the boundary's normal by
//! sampling around it, step along it geometrically, and search back to
//! the boundary; repeat while the budget lasts. The constants are the
//! authors' (as IBM ART keeps them): a threshold θ = 0.01/√d, probes at
//! δ = √d·θ·distance, 100·√t of them at iteration t.

use super::{bisect, start, Pool, Probe};
use crate::Error;

/// Queries kept back for one step search and one binary search.
fn reserve(theta: f64) -> u64 {
    (1.0 / theta).log2().ceil() as u64 + 12
}

pub(crate) fn run(probe: &mut Probe<'_>, pool: &Pool) -> Result<(), Error> {
    let free = probe.domain().free_features();
    if free.is_empty() {
        return Ok(());
    }
    let m = free.len() as f64;
    let theta = 0.01 / m.sqrt();
    let Some(init) = start(probe, pool)? else {
        return Ok(());
    };
    let mut x = bisect(probe, &init, theta)?;
    let x0 = probe.x0.clone();
    for t in 1u64.. {
        let dist = super::l2(&x, &x0);
        if dist <= 0.0 {
            break;
        }
        let delta = if t == 1 { 0.1 } else { m.sqrt() * theta * dist };
        let wanted = ((100.0 * (t as f64).sqrt()) as u64).min(10_000);
        let evals = wanted.min(probe.left().saturating_sub(reserve(theta)));
        if evals < 10 {
            break;
        }
        let Some(grad) = gradient(probe, &x, &free, delta, evals as usize)? else {
            break;
        };
        // Geometric step search: from twice the distance over √t, halve
        // until the step stays adversarial.
        let mut eps = 2.0 * dist / (t as f64).sqrt();
        let mut next = None;
        while eps > 1e-9 {
            eps /= 2.0;
            let mut cand: Vec<f64> = x.iter().zip(&grad).map(|(a, g)| a + eps * g).collect();
            probe.domain().project(&mut cand, &x0);
            match probe.adversarial(&cand)? {
                Some(true) => {
                    next = Some(cand);
                    break;
                }
                Some(false) => {}
                None => return Ok(()),
            }
        }
        let Some(cand) = next else {
            break;
        };
        x = bisect(probe, &cand, theta)?;
    }
    Ok(())
}

/// The boundary's normal at `x`, estimated from `n` decisions at random
/// unit directions scaled by `delta` (the mean decision subtracted, as the
/// authors do, when both sides were seen).
fn gradient(
    probe: &mut Probe<'_>,
    x: &[f64],
    free: &[usize],
    delta: f64,
    n: usize,
) -> Result<Option<Vec<f64>>, Error> {
    let d = x.len();
    let x0 = probe.x0.clone();
    let mut samples = vec![0.0; n * d];
    for s in samples.chunks_mut(d) {
        for &j in free {
            if let Some(v) = s.get_mut(j) {
                *v = probe.normal();
            }
        }
        let norm = s.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
        for (v, a) in s.iter_mut().zip(x) {
            *v = a + delta * *v / norm;
        }
        probe.domain().project(s, &x0);
    }
    let Some(a) = probe.ask(&samples)? else {
        return Ok(None);
    };
    let goal = probe.goal;
    let f: Vec<f64> = a
        .labels
        .iter()
        .map(|&l| if goal.reached(l) { 1.0 } else { -1.0 })
        .collect();
    let mean = f.iter().sum::<f64>() / f.len().max(1) as f64;
    let baseline = if mean.abs() == 1.0 { 0.0 } else { mean };
    // Each probe's direction as actually probed, after clipping:
    // (sample - x) / delta.
    let mut grad = vec![0.0; d];
    for (fi, s) in f.iter().zip(samples.chunks(d)) {
        let w = (fi - baseline) / delta;
        for ((g, v), a) in grad.iter_mut().zip(s).zip(x) {
            *g += w * (v - a);
        }
    }
    let norm = grad.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm <= 0.0 || !norm.is_finite() {
        return Ok(None);
    }
    Ok(Some(grad.iter().map(|g| g / norm).collect()))
}
