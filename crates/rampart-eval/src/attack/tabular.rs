//! A search in the dataset's own terms. Candidates change a few mutable
//! features to values the data holds (each column's quantiles; seen
//! values for categorical columns); with probabilities, the change that
//! lowers the margin most is kept, greedily, else random combinations
//! are tried. Once the goal is reached the change is shrunk: features are
//! put back one by one, and each numeric change is bisected towards the
//! original, rounded to whole numbers for integer columns. Immutable
//! columns never change.

use super::{Kind, Pool, Probe};
use crate::Error;
use rand::seq::SliceRandom;
use rand::Rng;

/// Values tried per feature.
const VALUES: usize = 8;

pub(crate) fn run(probe: &mut Probe<'_>, pool: &Pool) -> Result<(), Error> {
    let free = probe.domain().free_features();
    if free.is_empty() {
        return Ok(());
    }
    let values = candidates(probe, pool, &free);
    let Some((adv, label)) = find(probe, &free, &values)? else {
        return Ok(());
    };
    shrink(probe, adv, label)
}

/// Per free feature, the values worth trying: seen categories, else the
/// column's quantiles in the data.
fn candidates(probe: &Probe<'_>, pool: &Pool, free: &[usize]) -> Vec<Vec<f64>> {
    free.iter()
        .map(|&j| match probe.domain().kind.get(j) {
            Some(Kind::Categorical(seen)) if seen.len() <= 4 * VALUES => seen.clone(),
            _ => {
                let mut col: Vec<f64> =
                    pool.rows.iter().filter_map(|r| r.get(j).copied()).collect();
                col.sort_by(f64::total_cmp);
                let mut q: Vec<f64> = (0..=VALUES)
                    .filter_map(|i| {
                        let at = (i * col.len().saturating_sub(1)) / VALUES;
                        col.get(at).copied()
                    })
                    .chain([0.0, probe.domain().upper(j)])
                    .map(|v| probe.domain().snap(j, v))
                    .collect();
                q.sort_by(f64::total_cmp);
                q.dedup();
                q
            }
        })
        .collect()
}

/// An adversarial point, found greedily by the margin when the model
/// gives probabilities, else (or when greed stalls) by random changes of
/// more and more features.
fn find(
    probe: &mut Probe<'_>,
    free: &[usize],
    values: &[Vec<f64>],
) -> Result<Option<(Vec<f64>, u32)>, Error> {
    let d = probe.x0.len();
    let k = probe.classes();
    let goal = probe.goal;
    let mut x = probe.x0.clone();
    let mut margin = f64::INFINITY;
    // Greedy: every single change from x, the best kept.
    loop {
        let mut cands = Vec::new();
        for (&j, vals) in free.iter().zip(values) {
            for &v in vals {
                if x.get(j).is_some_and(|&cur| cur != v) {
                    let mut c = x.clone();
                    if let Some(s) = c.get_mut(j) {
                        *s = v;
                    }
                    cands.extend(c);
                }
            }
        }
        if cands.is_empty() || (cands.len() / d) as u64 > probe.left() / 2 {
            break;
        }
        let Some(a) = probe.ask(&cands)? else {
            return Ok(None);
        };
        if let Some((i, &l)) = a.labels.iter().enumerate().find(|(_, &l)| goal.reached(l)) {
            return Ok(cands.get(i * d..(i + 1) * d).map(|c| (c.to_vec(), l)));
        }
        if a.proba.is_empty() {
            break;
        }
        let best = (0..cands.len() / d)
            .map(|i| (i, goal.margin(a.proba(i, k))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, m)) if m < margin => {
                margin = m;
                if let Some(c) = cands.get(i * d..(i + 1) * d) {
                    x = c.to_vec();
                }
            }
            _ => break,
        }
    }
    // Random: change 1, 2, ... features of the input at once.
    let mut width = 1;
    while probe.left() > 0 {
        let n = 20.min(probe.left() as usize);
        let mut cands = Vec::with_capacity(n * d);
        for _ in 0..n {
            let mut c = probe.x0.clone();
            let picked: Vec<usize> = (0..free.len())
                .collect::<Vec<_>>()
                .choose_multiple(&mut probe.rng, width.min(free.len()))
                .copied()
                .collect();
            for p in picked {
                let (Some(&j), Some(vals)) = (free.get(p), values.get(p)) else {
                    continue;
                };
                if let (Some(s), Some(&v)) = (c.get_mut(j), vals.choose(&mut probe.rng)) {
                    *s = v;
                }
            }
            cands.extend(c);
        }
        let Some(a) = probe.ask(&cands)? else {
            return Ok(None);
        };
        if let Some((i, &l)) = a.labels.iter().enumerate().find(|(_, &l)| goal.reached(l)) {
            return Ok(cands.get(i * d..(i + 1) * d).map(|c| (c.to_vec(), l)));
        }
        if probe.rng.gen_bool(0.5) {
            width = (width + 1).min(free.len());
        }
    }
    Ok(None)
}

/// Makes an adversarial point smaller: features put back where the goal
/// still holds, then numeric changes bisected towards the original.
fn shrink(probe: &mut Probe<'_>, mut adv: Vec<f64>, found: u32) -> Result<(), Error> {
    let x0 = probe.x0.clone();
    let mut changed: Vec<usize> = (0..adv.len())
        .filter(|&j| adv.get(j) != x0.get(j))
        .collect();
    changed.shuffle(&mut probe.rng);
    let mut label = found;
    for &j in &changed {
        let mut c = adv.clone();
        if let (Some(s), Some(&o)) = (c.get_mut(j), x0.get(j)) {
            *s = o;
        }
        match probe.adversarial(&c)? {
            Some(true) => {
                adv = c;
                label = probe.last.unwrap_or(label);
            }
            Some(false) => {}
            None => {
                settle(probe, adv, label);
                return Ok(());
            }
        }
    }
    for &j in &changed {
        if matches!(probe.domain().kind.get(j), Some(Kind::Categorical(_))) {
            continue;
        }
        let (Some(&o), Some(&a)) = (x0.get(j), adv.get(j)) else {
            continue;
        };
        if o == a {
            continue;
        }
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        for _ in 0..8 {
            let mid = (lo + hi) / 2.0;
            let v = probe.domain().snap(j, o + mid * (a - o));
            let mut c = adv.clone();
            if let Some(s) = c.get_mut(j) {
                *s = v;
            }
            match probe.adversarial(&c)? {
                Some(true) => {
                    hi = mid;
                    adv = c;
                    label = probe.last.unwrap_or(label);
                }
                Some(false) => lo = mid,
                None => break,
            }
        }
    }
    settle(probe, adv, label);
    Ok(())
}

/// The shrunk point is the result (fewest features changed), whatever
/// closer point the search met on the way.
fn settle(probe: &mut Probe<'_>, adv: Vec<f64>, label: u32) {
    probe.best = Some((super::l2(&adv, &probe.x0), adv, label));
}
