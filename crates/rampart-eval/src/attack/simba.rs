//! SimBA (Guo et al., 2019), Cartesian basis: take the features in a
//! random order, try a step of ε down then up on each, and keep a step
//! that lowers the true class's probability (raises the target's). Every
//! feature is visited before any is revisited. Once the class turns, the
//! rest of the budget shrinks the perturbation by bisection towards the
//! input (the probe keeps the closest adversarial point it met).

use super::Probe;
use crate::Error;
use rand::seq::SliceRandom;

pub(crate) fn run(probe: &mut Probe<'_>, eps: f64) -> Result<(), Error> {
    let free = probe.domain().free_features();
    let k = probe.classes();
    let mut x = probe.x0.clone();
    let Some(a) = probe.ask(&x)? else {
        return Ok(());
    };
    if a.proba.is_empty() {
        return Err(Error::Model(
            "SimBA needs the model's class probabilities, and it gives labels only: use hopskipjump, boundary or tabular".into(),
        ));
    }
    let goal = probe.goal;
    let mut last = goal.pressure(a.proba(0, k));
    if a.labels.first().is_some_and(|&l| goal.reached(l)) || free.is_empty() {
        return Ok(());
    }
    loop {
        let mut order = free.clone();
        order.shuffle(&mut probe.rng);
        let mut moved = false;
        for &j in &order {
            let here = x.get(j).copied().unwrap_or(0.0);
            for sign in [-1.0, 1.0] {
                let v = probe.domain().snap(j, here + sign * eps);
                if v == here {
                    continue;
                }
                let mut cand = x.clone();
                if let Some(c) = cand.get_mut(j) {
                    *c = v;
                }
                let Some(a) = probe.ask(&cand)? else {
                    return Ok(());
                };
                let p = goal.pressure(a.proba(0, k));
                if p < last {
                    last = p;
                    x = cand;
                    moved = true;
                    if a.labels.first().is_some_and(|&l| goal.reached(l)) {
                        // Spend what is left pulling the point back
                        // towards the input along its perturbation.
                        super::bisect(probe, &x, 1e-3)?;
                        return Ok(());
                    }
                    break;
                }
            }
        }
        if !moved {
            return Ok(());
        }
    }
}
