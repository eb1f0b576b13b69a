//! Square attack (Andriushchenko et al., 2020), L∞: start from vertical
//! stripes of ±ε, then redraw the signs in one random square window at a
//! time (a random subset of features when the input is not an image),
//! keeping a change that lowers the margin. Windows shrink on the
//! authors' schedule as the budget is spent. Once the class turns, the
//! rest of the budget shrinks the perturbation towards the input.

use super::Probe;
use crate::Error;
use rand::seq::SliceRandom;
use rand::Rng;

/// The share of the input redrawn at first.
const P_INIT: f64 = 0.8;

/// How the input is laid out: channels × height × width, or flat.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Image { c: usize, h: usize, w: usize },
    Flat,
}

fn layout(shape: &[usize], d: usize) -> Layout {
    let (c, h, w) = match shape {
        [c, h, w] => (*c, *h, *w),
        [h, w] => (1, *h, *w),
        _ => return Layout::Flat,
    };
    if h >= 2 && w >= 2 && c * h * w == d {
        Layout::Image { c, h, w }
    } else {
        Layout::Flat
    }
}

/// The share redrawn at iteration `i` of `n` (the authors' schedule).
fn share(i: u64, n: u64) -> f64 {
    let progress = i as f64 / n.max(1) as f64;
    let cuts = [0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8];
    let halvings = cuts.iter().filter(|&&c| progress > c).count();
    P_INIT / f64::powi(2.0, halvings as i32)
}

pub(crate) fn run(probe: &mut Probe<'_>, eps: f64, shape: &[usize]) -> Result<(), Error> {
    let d = probe.domain().dim();
    let k = probe.classes();
    let x0 = probe.x0.clone();
    let free = probe.domain().free_features();
    if free.is_empty() {
        return Ok(());
    }
    let lay = layout(shape, d);
    let goal = probe.goal;
    // Stripes: one sign per channel and column (per feature when flat).
    let mut delta = vec![0.0; d];
    for v in delta.iter_mut() {
        *v = if probe.rng.gen::<bool>() { eps } else { -eps };
    }
    if let Layout::Image { c, h, w } = lay {
        for ch in 0..c {
            for col in 0..w {
                let s = if probe.rng.gen::<bool>() { eps } else { -eps };
                for row in 0..h {
                    if let Some(v) = delta.get_mut(ch * h * w + row * w + col) {
                        *v = s;
                    }
                }
            }
        }
    }
    let point = |delta: &[f64], probe: &Probe<'_>| -> Vec<f64> {
        let mut z: Vec<f64> = x0.iter().zip(delta).map(|(a, b)| a + b).collect();
        probe.domain().project(&mut z, &x0);
        z
    };
    let z = point(&delta, probe);
    let Some(a) = probe.ask(&z)? else {
        return Ok(());
    };
    if a.proba.is_empty() {
        return Err(Error::Model(
            "the Square attack needs the model's class probabilities, and it gives labels only: use hopskipjump, boundary or tabular".into(),
        ));
    }
    let mut margin = goal.margin(a.proba(0, k));
    if a.labels.first().is_some_and(|&l| goal.reached(l)) {
        super::bisect(probe, &z, 1e-3)?;
        return Ok(());
    }
    let n = probe.left();
    for i in 0..n {
        let p = share(i, n);
        let mut next = delta.clone();
        match lay {
            Layout::Image { c, h, w } => {
                let s = ((p * (h * w) as f64).sqrt().round() as usize).clamp(1, h.min(w) - 1);
                let top = probe.rng.gen_range(0..=h - s);
                let left = probe.rng.gen_range(0..=w - s);
                for ch in 0..c {
                    let sign = if probe.rng.gen::<bool>() { eps } else { -eps };
                    for row in top..top + s {
                        for col in left..left + s {
                            if let Some(v) = next.get_mut(ch * h * w + row * w + col) {
                                *v = sign;
                            }
                        }
                    }
                }
            }
            Layout::Flat => {
                let m = ((p * free.len() as f64).round() as usize).clamp(1, free.len());
                let picked: Vec<usize> = free.choose_multiple(&mut probe.rng, m).copied().collect();
                for j in picked {
                    if let Some(v) = next.get_mut(j) {
                        *v = if probe.rng.gen::<bool>() { eps } else { -eps };
                    }
                }
            }
        }
        if next == delta {
            continue;
        }
        let z = point(&next, probe);
        let Some(a) = probe.ask(&z)? else {
            return Ok(());
        };
        let m = goal.margin(a.proba(0, k));
        if m < margin {
            margin = m;
            delta = next;
            if a.labels.first().is_some_and(|&l| goal.reached(l)) {
                super::bisect(probe, &z, 1e-3)?;
                return Ok(());
            }
        }
    }
    Ok(())
}
