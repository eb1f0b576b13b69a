//! Boundary attack (Brendel, Rauber and Bethge, 2018), from decisions
//! alone: from an adversarial point, alternate a random step along the
//! sphere around the input with a step towards it, keeping the moves
//! that stay adversarial; both step sizes adapt to how often they do.

use super::{bisect, start, Pool, Probe};
use crate::Error;

/// Candidates tried per step (the authors' batch, smaller: the budget is
/// per input).
const TRIALS: usize = 10;
/// How much a step grows or shrinks.
const ADAPT: f64 = 0.667;

pub(crate) fn run(probe: &mut Probe<'_>, pool: &Pool) -> Result<(), Error> {
    let free = probe.domain().free_features();
    if free.is_empty() {
        return Ok(());
    }
    let Some(init) = start(probe, pool)? else {
        return Ok(());
    };
    let x0 = probe.x0.clone();
    let d = x0.len();
    let mut x = bisect(probe, &init, 1e-3)?;
    let (mut spherical, mut forward) = (0.01_f64, 0.01_f64);
    while probe.left() as usize >= 2 * TRIALS {
        let dist = super::l2(&x, &x0);
        if dist <= 0.0 {
            break;
        }
        // Orthogonal steps: random, made orthogonal to the direction to
        // the input, put back on the sphere of the current distance.
        let mut cands = Vec::with_capacity(TRIALS * d);
        for _ in 0..TRIALS {
            let mut u = vec![0.0; d];
            for &j in &free {
                if let Some(v) = u.get_mut(j) {
                    *v = probe.normal();
                }
            }
            let to: Vec<f64> = x0.iter().zip(&x).map(|(a, b)| (a - b) / dist).collect();
            let along: f64 = u.iter().zip(&to).map(|(a, b)| a * b).sum();
            for (v, t) in u.iter_mut().zip(&to) {
                *v -= along * t;
            }
            let n = u.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
            let mut c: Vec<f64> = x
                .iter()
                .zip(&u)
                .map(|(a, v)| a + spherical * dist * v / n)
                .collect();
            let r = super::l2(&c, &x0).max(1e-12);
            for (v, o) in c.iter_mut().zip(&x0) {
                *v = o + (*v - o) * dist / r;
            }
            probe.domain().project(&mut c, &x0);
            cands.extend(c);
        }
        let Some(a) = probe.ask(&cands)? else {
            break;
        };
        let goal = probe.goal;
        let kept = reaching(&cands, &a.labels, goal, d);
        adapt(&mut spherical, kept.len(), TRIALS);
        if kept.is_empty() {
            continue;
        }
        // Steps towards the input from each that stayed adversarial.
        let steps: Vec<f64> = kept
            .iter()
            .flat_map(|c| c.iter().zip(&x0).map(|(v, o)| v + forward * (o - v)))
            .collect();
        let Some(b) = probe.ask(&steps)? else {
            break;
        };
        let landed = reaching(&steps, &b.labels, goal, d);
        adapt(&mut forward, landed.len(), kept.len());
        if let Some(best) = landed
            .iter()
            .min_by(|a, b| super::l2(a, &x0).total_cmp(&super::l2(b, &x0)))
        {
            x = best.to_vec();
        }
        if spherical < 1e-9 || forward < 1e-9 {
            break;
        }
    }
    Ok(())
}

/// The points (rows of `d`) whose label reaches the goal.
fn reaching<'a>(points: &'a [f64], labels: &[u32], goal: super::Goal, d: usize) -> Vec<&'a [f64]> {
    points
        .chunks(d)
        .zip(labels)
        .filter(|(_, &l)| goal.reached(l))
        .map(|(c, _)| c)
        .collect()
}

/// Shrinks a step that rarely stays adversarial (under a fifth of `tried`),
/// grows one that mostly does (over half), as the authors adapt theirs.
fn adapt(step: &mut f64, stayed: usize, tried: usize) {
    let rate = stayed as f64 / tried.max(1) as f64;
    if rate < 0.2 {
        *step *= ADAPT;
    } else if rate > 0.5 {
        *step /= ADAPT;
    }
}
