//! Adversarial robustness, black box: evasion attacks that see only the
//! model's outputs, as an attacker with query access does.
//!
//! Each attack takes inputs the model classifies correctly and searches,
//! within a query budget per input, for a nearby input it classifies
//! otherwise (untargeted) or as a chosen class (targeted). The report
//! says how often that worked, how far the inputs had to move (L2, L∞,
//! features changed) and how many queries it took.
//!
//! The continuous attacks (HopSkipJump, SimBA, Square, Boundary) move
//! within each feature's range in the data (or `bounds`, for images), in
//! the features' own geometry: the distances they shrink are the ones
//! reported, in the features' units. They suit inputs whose features share
//! a unit (pixels, embeddings, signals); for tabular data, whose columns
//! do not, the tabular search is the meaningful one. The tabular search keeps to what a dataset can
//! hold: each feature's range, whole numbers for integer columns, seen
//! values for categorical ones, and immutable columns untouched.
//!
//! Everything is seeded: the same model, data, options and seed give the
//! same report.

mod boundary;
mod hsj;
mod simba;
mod square;
mod tabular;

use crate::model::{Column, Model};
use crate::Error;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The attacks, by the name a flag or a policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attack {
    /// HopSkipJump (Chen et al. 2020): decision-based, L2; estimates the
    /// boundary's gradient from labels alone.
    #[serde(rename = "hopskipjump")]
    HopSkipJump,
    /// SimBA (Guo et al. 2019): score-based; one feature at a time, kept
    /// when the true class's probability falls.
    Simba,
    /// Square attack (Andriushchenko et al. 2020): score-based, L∞;
    /// random square (or feature-subset) updates that lower the margin.
    Square,
    /// Boundary attack (Brendel et al. 2018): decision-based; a walk
    /// along the boundary towards the input.
    Boundary,
    /// A search in the dataset's own terms: ranges, integer and
    /// categorical columns, immutable columns untouched.
    Tabular,
}

pub const ATTACKS: [Attack; 5] = [
    Attack::HopSkipJump,
    Attack::Simba,
    Attack::Square,
    Attack::Boundary,
    Attack::Tabular,
];

impl Attack {
    pub fn name(self) -> &'static str {
        match self {
            Attack::HopSkipJump => "hopskipjump",
            Attack::Simba => "simba",
            Attack::Square => "square",
            Attack::Boundary => "boundary",
            Attack::Tabular => "tabular",
        }
    }

    /// Whether the attack reads the model's probabilities (SimBA and
    /// Square follow them; the tabular search is greedy by them when it
    /// has them) rather than its decisions alone.
    pub fn reads_scores(self) -> bool {
        !matches!(self, Attack::HopSkipJump | Attack::Boundary)
    }

    pub fn parse(name: &str) -> Option<Attack> {
        let n = name.trim().to_ascii_lowercase().replace(['-', '_'], "");
        ATTACKS.into_iter().find(|a| a.name() == n)
    }

    /// The measure a threshold names: the attack's success rate.
    pub fn measure(self) -> &'static str {
        match self {
            Attack::HopSkipJump => "hopskipjump_success_rate",
            Attack::Simba => "simba_success_rate",
            Attack::Square => "square_success_rate",
            Attack::Boundary => "boundary_success_rate",
            Attack::Tabular => "tabular_success_rate",
        }
    }
}

/// How to attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub attacks: Vec<Attack>,
    /// Inputs attacked: a seeded sample of the rows the model classifies
    /// correctly (all of them when fewer).
    pub rows: usize,
    /// Model queries allowed per input.
    pub queries: u64,
    /// Square's L∞ budget and SimBA's step, as a fraction of the input
    /// domain's width (`bounds`, else the widest feature's range).
    pub epsilon: f64,
    /// Targeted: the class (a label value) the attack must reach.
    pub target: Option<String>,
    /// The input domain for every feature (images: 0 and 1) instead of
    /// each feature's range in the data.
    pub bounds: Option<(f64, f64)>,
    /// Columns the tabular search never changes (and the continuous
    /// attacks hold fixed).
    pub immutable: Vec<String>,
    /// Columns whose values are categories: the tabular search sets only
    /// values seen in the data.
    pub categorical: Vec<String>,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            attacks: Vec::new(),
            rows: 1000,
            queries: 1000,
            epsilon: 0.1,
            target: None,
            bounds: None,
            immutable: Vec::new(),
            categorical: Vec::new(),
            seed: 0,
        }
    }
}

/// The most inputs and queries a run may ask for.
pub const MAX_ROWS: usize = 100_000;
pub const MAX_QUERIES: u64 = 1_000_000;

impl Options {
    /// Options that cannot be run, as a message for the user.
    pub fn problem(&self) -> Option<String> {
        if self.rows == 0 || self.rows > MAX_ROWS {
            return Some(format!(
                "--attack-rows {}: between 1 and {MAX_ROWS} inputs",
                self.rows
            ));
        }
        if self.queries < 10 || self.queries > MAX_QUERIES {
            return Some(format!(
                "--queries {}: between 10 and {MAX_QUERIES} per input",
                self.queries
            ));
        }
        if !(self.epsilon > 0.0 && self.epsilon <= 1.0) {
            return Some(format!(
                "--epsilon {}: a fraction of the input domain's width, above 0 and at most 1",
                self.epsilon
            ));
        }
        if let Some((lo, hi)) = self.bounds {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Some(format!(
                    "--bounds {lo},{hi}: two finite numbers, the lower first"
                ));
            }
        }
        None
    }
}

/// What one attack did, over every input attacked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub attack: Attack,
    /// The class reached for (targeted), or none (untargeted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub queries_per_input: u64,
    /// The L∞ budget (Square) or step (SimBA), as a fraction of the
    /// domain's width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    pub seed: u64,
    /// Features the attack was not allowed to change.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub immutable: Vec<String>,
    /// Features the tabular search held to the values seen.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub categorical: Vec<String>,
    /// The input domain given for every feature, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bounds: Option<(f64, f64)>,
    /// Inputs attacked (classified correctly, and not already the target).
    pub attacked: usize,
    pub succeeded: usize,
    /// None when no input could be attacked: what was not measured
    /// does not pass.
    pub success_rate: Option<f64>,
    /// Over the successful inputs, in the features' own units.
    pub l2: Spread,
    pub linf: Spread,
    pub changed: Spread,
    /// Queries used, over every input attacked.
    pub queries: Spread,
    /// Successful perturbations' L2 sizes in ten equal bins from 0 to the
    /// largest (for the report's histogram).
    pub l2_histogram: Vec<u64>,
    #[serde(skip)]
    pub examples: Vec<Example>,
}

/// A successful adversarial input.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The row of the evaluation table it came from.
    pub row: usize,
    /// The line that row starts on in the data (its row number for
    /// Parquet).
    pub line: u64,
    /// Its features (the model's input order).
    pub x: Vec<f32>,
    /// The class the model now gives it.
    pub predicted: u32,
}

/// The distribution of a quantity: quantiles and the mean.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub median: Option<f64>,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return Spread::default();
        }
        let q = |p: f64| crate::bootstrap::percentile(&v, p);
        Spread {
            count: v.len(),
            median: q(0.5),
            p10: q(0.1),
            p90: q(0.9),
            mean: Some(v.iter().sum::<f64>() / v.len() as f64),
            max: v.last().copied(),
        }
    }
}

/// What one input's attack ended with.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The adversarial point (scaled coordinates), when one was found.
    pub found: Option<(Vec<f64>, u32)>,
    pub queries: u64,
}

/// Each feature's domain: where the attacks may move it, and how.
///
/// Attacks work in coordinates z = (x − lo) / unit, one unit for every
/// feature (the widest feature's range, or the width of `bounds`): the
/// geometry is the features' own (distances are those reported, as IBM
/// ART measures them), only shifted and scaled, so that step sizes and
/// thresholds mean the same on any data. Feature j lies in
/// [0, upper_j].
#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub lo: Vec<f64>,
    /// Each feature's range over the unit (0: the feature cannot move).
    pub upper: Vec<f64>,
    pub unit: f64,
    pub kind: Vec<Kind>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Continuous,
    Integer,
    /// The values seen, in attack coordinates, sorted.
    Categorical(Vec<f64>),
    Immutable,
}

impl Domain {
    fn new(lo: Vec<f64>, hi: &[f64], kind: Vec<Kind>) -> Domain {
        let span: Vec<f64> = lo.iter().zip(hi).map(|(l, h)| (h - l).max(0.0)).collect();
        let unit = unit(&lo, hi);
        Domain {
            upper: span.iter().map(|s| s / unit).collect(),
            lo,
            unit,
            kind,
        }
    }

    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    pub fn upper(&self, j: usize) -> f64 {
        self.upper.get(j).copied().unwrap_or(0.0)
    }

    /// Whether a feature may move.
    pub fn free(&self, j: usize) -> bool {
        self.upper(j) > 0.0 && !matches!(self.kind.get(j), Some(Kind::Immutable) | None)
    }

    /// A point in attack coordinates.
    pub fn scale(&self, x: &[f32]) -> Vec<f64> {
        x.iter()
            .zip(self.lo.iter().zip(&self.upper))
            .map(|(&v, (&lo, &u))| ((f64::from(v) - lo) / self.unit).clamp(0.0, u))
            .collect()
    }

    /// Points (rows of [`Domain::dim`] coordinates) in the features' own
    /// units.
    pub fn raw(&self, z: &[f64]) -> Vec<f32> {
        // Sized once: the gradient probes are a megabyte at a time.
        let mut out = Vec::with_capacity(z.len());
        for row in z.chunks(self.dim().max(1)) {
            out.extend(
                row.iter()
                    .zip(&self.lo)
                    .map(|(&v, &lo)| (lo + v * self.unit) as f32),
            );
        }
        out
    }

    /// The nearest value a feature can hold: whole numbers for integer
    /// columns, seen values for categorical ones.
    pub fn snap(&self, j: usize, z: f64) -> f64 {
        let lo = self.lo.get(j).copied().unwrap_or(0.0);
        let u = self.upper(j);
        match self.kind.get(j) {
            Some(Kind::Integer) => (((lo + z * self.unit).round() - lo) / self.unit).clamp(0.0, u),
            Some(Kind::Categorical(seen)) => seen
                .iter()
                .copied()
                .min_by(|a, b| (a - z).abs().total_cmp(&(b - z).abs()))
                .unwrap_or(z),
            _ => z.clamp(0.0, u),
        }
    }

    /// The features that may move.
    pub fn free_features(&self) -> Vec<usize> {
        (0..self.dim()).filter(|&j| self.free(j)).collect()
    }

    /// Clips `z` into the domain and holds the fixed features at `x0`'s.
    pub fn project(&self, z: &mut [f64], x0: &[f64]) {
        for (j, (v, &o)) in z.iter_mut().zip(x0).enumerate() {
            *v = if self.free(j) {
                v.clamp(0.0, self.upper(j))
            } else {
                o
            };
        }
    }
}

/// The goal: leave the true class, or reach the target.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Goal {
    pub truth: u32,
    pub target: Option<u32>,
}

impl Goal {
    pub fn reached(self, label: u32) -> bool {
        match self.target {
            Some(t) => label == t,
            None => label != self.truth,
        }
    }

    /// What score-based attacks lower: the true class's lead over the
    /// best other (untargeted), or the best other's lead over the target;
    /// negative once the goal is reached.
    pub fn margin(self, p: &[f64]) -> f64 {
        let of = |c: u32| p.get(c as usize).copied().unwrap_or(0.0);
        let best_except = |c: u32| {
            p.iter()
                .enumerate()
                .filter(|(j, _)| *j != c as usize)
                .map(|(_, &v)| v)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        match self.target {
            Some(t) => best_except(t) - of(t),
            None => of(self.truth) - best_except(self.truth),
        }
    }

    /// The probability SimBA pushes: the true class's (down) or the
    /// target's (up, so negated).
    pub fn pressure(self, p: &[f64]) -> f64 {
        match self.target {
            Some(t) => -p.get(t as usize).copied().unwrap_or(0.0),
            None => p.get(self.truth as usize).copied().unwrap_or(0.0),
        }
    }
}

/// A model as an attacker sees it: labels, and probabilities when it
/// gives them.
pub(crate) struct Oracle<'a> {
    model: &'a Model,
    classes: usize,
    logits: bool,
    domain: &'a Domain,
    /// Whether the attack reads probabilities (else decisions only, and
    /// the model may leave its scores unfinished).
    scores: bool,
}

/// The model's answers for a batch of points.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answers {
    pub labels: Vec<u32>,
    /// rows × classes, or empty when the model gives no scores.
    pub proba: Vec<f64>,
}

impl Answers {
    pub fn proba(&self, row: usize, k: usize) -> &[f64] {
        self.proba.get(row * k..(row + 1) * k).unwrap_or(&[])
    }
}

impl Oracle<'_> {
    fn answer(&self, z: &[f64]) -> Result<Answers, Error> {
        let x = self.domain.raw(z);
        let rows = x.len() / self.domain.dim().max(1);
        let k = self.classes;
        let (mut scores, mut labels) = (None, None);
        for c in self.model.predict_for(&x, self.scores)? {
            match c {
                Column::Float(v) if v.len() == rows * k && k > 1 && scores.is_none() => {
                    scores = Some(v)
                }
                Column::Int(v) if v.len() == rows && labels.is_none() => labels = Some(v),
                _ => {}
            }
        }
        let proba = match scores {
            Some(s) if self.logits => crate::evaluate::softmax(&s, k),
            Some(s) => s,
            None => Vec::new(),
        };
        let labels = match labels {
            Some(l) => crate::evaluate::predicted_of(&l, self.model.class_labels(), k)?,
            None if !proba.is_empty() => crate::evaluate::argmax(&proba, k),
            None => {
                return Err(Error::Model(
                    "the model gives neither labels nor class scores: it cannot be attacked as a classifier".into(),
                ))
            }
        };
        Ok(Answers { labels, proba })
    }
}

/// One input's queries against its budget.
pub(crate) struct Probe<'a> {
    oracle: &'a Oracle<'a>,
    pub used: u64,
    pub limit: u64,
    pub goal: Goal,
    pub x0: Vec<f64>,
    /// Xoshiro256++ (rand's SmallRng): the attacks draw millions of
    /// numbers, and these need to be reproducible, not secret.
    pub rng: SmallRng,
    /// The closest adversarial point met so far (L2, scaled) and its
    /// class.
    pub best: Option<(f64, Vec<f64>, u32)>,
    /// The class of the last point [`Probe::adversarial`] asked about.
    pub last: Option<u32>,
}

impl Probe<'_> {
    pub fn left(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    pub fn domain(&self) -> &Domain {
        self.oracle.domain
    }

    pub fn classes(&self) -> usize {
        self.oracle.classes
    }

    /// The model's answers for `n` points (n × dim, scaled), or None when
    /// the budget does not cover them. Adversarial points are kept as the
    /// best when closer.
    pub fn ask(&mut self, z: &[f64]) -> Result<Option<Answers>, Error> {
        let d = self.oracle.domain.dim().max(1);
        let n = (z.len() / d) as u64;
        if n == 0 || n > self.left() {
            return Ok(None);
        }
        self.used += n;
        let a = self.oracle.answer(z)?;
        for (point, &label) in z.chunks(d).zip(&a.labels) {
            if self.goal.reached(label) {
                let dist = l2(point, &self.x0);
                if self.best.as_ref().is_none_or(|(b, _, _)| dist < *b) {
                    self.best = Some((dist, point.to_vec(), label));
                }
            }
        }
        Ok(Some(a))
    }

    /// Whether one point reaches the goal (None: out of budget).
    pub fn adversarial(&mut self, z: &[f64]) -> Result<Option<bool>, Error> {
        let goal = self.goal;
        let label = self.ask(z)?.and_then(|a| a.labels.first().copied());
        self.last = label;
        Ok(label.map(|l| goal.reached(l)))
    }

    /// A standard normal draw (ziggurat: the attacks draw millions).
    pub fn normal(&mut self) -> f64 {
        self.rng.sample(rand_distr::StandardNormal)
    }
}

pub(crate) fn l2(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

pub(crate) fn linf(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The dataset's rows as the attacks need them.
pub struct Inputs<'a> {
    pub x: &'a [f32],
    pub features: &'a [String],
    pub truth: &'a [u32],
    pub predicted: &'a [u32],
    pub classes: &'a [String],
    /// Per row, the line it starts on.
    pub lines: &'a [u64],
    /// The input's dimensions after the batch (Square's windows).
    pub shape: &'a [usize],
}

/// Runs every attack of `o` on `model` over the inputs.
pub fn run(
    model: &Model,
    logits: bool,
    inputs: &Inputs<'_>,
    o: &Options,
) -> Result<Vec<Report>, Error> {
    if let Some(p) = o.problem() {
        return Err(Error::Data(p));
    }
    let d = inputs.features.len();
    let rows = inputs.truth.len();
    if d == 0 || inputs.x.len() != rows * d {
        return Err(Error::Data("no features to attack".into()));
    }
    let target = match &o.target {
        Some(t) => Some(
            inputs
                .classes
                .iter()
                .position(|c| c == t)
                .map(|p| p as u32)
                .ok_or_else(|| {
                    Error::Data(format!(
                        "--target {t:?} is not one of the classes ({})",
                        inputs.classes.join(", ")
                    ))
                })?,
        ),
        None => None,
    };
    for name in o.immutable.iter().chain(&o.categorical) {
        if !inputs.features.contains(name) {
            return Err(Error::Data(format!(
                "{name:?} is not a feature ({}): --immutable and --categorical name feature columns",
                inputs.features.join(", ")
            )));
        }
    }
    let domain = domain(inputs, o)?;
    if domain.free_features().is_empty() {
        return Err(Error::Data(format!(
            "no feature can change ({}: immutable, or one value throughout the data): an attack that cannot move finds nothing, and its rate would measure nothing",
            inputs.features.join(", ")
        )));
    }
    let chosen = choose(inputs, target, o);
    let pool = Pool::new(inputs, &domain);
    let mut reports = Vec::new();
    for &attack in &o.attacks {
        let oracle = Oracle {
            model,
            classes: inputs.classes.len(),
            logits,
            domain: &domain,
            scores: attack.reads_scores(),
        };
        let outcomes: Vec<(usize, Outcome)> = chosen
            .par_iter()
            .map(|&row| {
                let outcome = attack_one(attack, row, &oracle, &pool, inputs, target, o)?;
                Ok((row, outcome))
            })
            .collect::<Result<_, Error>>()?;
        reports.push(report(attack, &outcomes, inputs, &domain, target, o));
    }
    Ok(reports)
}

/// One input under one attack.
fn attack_one(
    attack: Attack,
    row: usize,
    oracle: &Oracle<'_>,
    pool: &Pool,
    inputs: &Inputs<'_>,
    target: Option<u32>,
    o: &Options,
) -> Result<Outcome, Error> {
    let d = oracle.domain.dim();
    let raw = inputs.x.get(row * d..(row + 1) * d).unwrap_or(&[]);
    let truth = inputs.truth.get(row).copied().unwrap_or(0);
    let mut probe = Probe {
        oracle,
        used: 0,
        limit: o.queries,
        goal: Goal { truth, target },
        x0: oracle.domain.scale(raw),
        rng: SmallRng::seed_from_u64(
            o.seed ^ (row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ attack as u64,
        ),
        best: None,
        last: None,
    };
    match attack {
        Attack::HopSkipJump => hsj::run(&mut probe, pool)?,
        Attack::Simba => simba::run(&mut probe, o.epsilon)?,
        Attack::Square => square::run(&mut probe, o.epsilon, inputs.shape)?,
        Attack::Boundary => boundary::run(&mut probe, pool)?,
        Attack::Tabular => tabular::run(&mut probe, pool)?,
    }
    Ok(Outcome {
        found: probe.best.map(|(_, z, label)| (z, label)),
        queries: probe.used,
    })
}

/// The attack coordinates' unit: the widest feature's range (1 when no
/// feature varies).
fn unit(lo: &[f64], hi: &[f64]) -> f64 {
    let widest = lo.iter().zip(hi).map(|(l, h)| h - l).fold(0.0, f64::max);
    if widest > 0.0 && widest.is_finite() {
        widest
    } else {
        1.0
    }
}

/// Each feature's range and kind: `bounds` when given, else the data's.
fn domain(inputs: &Inputs<'_>, o: &Options) -> Result<Domain, Error> {
    let d = inputs.features.len();
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    let mut whole = vec![true; d];
    for row in inputs.x.chunks(d) {
        for (j, &v) in row.iter().enumerate() {
            let v = f64::from(v);
            if let (Some(l), Some(h), Some(w)) = (lo.get_mut(j), hi.get_mut(j), whole.get_mut(j)) {
                *l = l.min(v);
                *h = h.max(v);
                *w &= v.fract() == 0.0;
            }
        }
    }
    if let Some((a, b)) = o.bounds {
        let outside = inputs
            .x
            .iter()
            .position(|&v| f64::from(v) < a || f64::from(v) > b);
        if let Some(i) = outside {
            let (row, j) = (i / d.max(1), i % d.max(1));
            return Err(Error::Data(format!(
                "--bounds {a},{b}: the feature {} is {} on row {} of the data, outside them; the attacks would start from inputs that are not the data's: widen the bounds, or leave them out to use each feature's range",
                inputs.features.get(j).map_or("?", String::as_str),
                inputs.x.get(i).copied().unwrap_or(0.0),
                inputs.lines.get(row).copied().unwrap_or(0)
            )));
        }
        lo = vec![a; d];
        hi = vec![b; d];
    }
    let unit = unit(&lo, &hi);
    let kind = inputs
        .features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            if o.immutable.contains(name) {
                Kind::Immutable
            } else if o.categorical.contains(name) {
                let l = lo.get(j).copied().unwrap_or(0.0);
                let mut seen: Vec<f64> = inputs
                    .x
                    .iter()
                    .skip(j)
                    .step_by(d)
                    .map(|&v| (f64::from(v) - l) / unit)
                    .collect();
                seen.sort_by(f64::total_cmp);
                seen.dedup();
                Kind::Categorical(seen)
            } else if whole.get(j).copied().unwrap_or(false) {
                Kind::Integer
            } else {
                Kind::Continuous
            }
        })
        .collect();
    Ok(Domain::new(lo, &hi, kind))
}

/// The inputs to attack: those the model gets right (and that are not
/// already the target), a seeded sample when more than asked.
fn choose(inputs: &Inputs<'_>, target: Option<u32>, o: &Options) -> Vec<usize> {
    let mut rows: Vec<usize> = inputs
        .truth
        .iter()
        .zip(inputs.predicted)
        .enumerate()
        .filter(|(_, (t, p))| t == p && target.is_none_or(|g| **t != g))
        .map(|(i, _)| i)
        .collect();
    if rows.len() > o.rows {
        let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
        let (picked, _) =
            rand::seq::SliceRandom::partial_shuffle(rows.as_mut_slice(), &mut rng, o.rows);
        let mut picked = picked.to_vec();
        picked.sort_unstable();
        rows = picked;
    }
    rows
}

/// Rows the model already gives each class: starting points for the
/// decision-based attacks (known adversarial without a query), and the
/// values the tabular search draws from.
pub(crate) struct Pool {
    /// Scaled rows, by the class the model predicts for them.
    by_class: Vec<Vec<Vec<f64>>>,
    /// Every scaled row kept (the tabular search's values).
    pub rows: Vec<Vec<f64>>,
}

/// Rows kept per class: enough to find a near one, bounded in memory.
const POOL_PER_CLASS: usize = 2000;

impl Pool {
    fn new(inputs: &Inputs<'_>, domain: &Domain) -> Pool {
        let d = domain.dim();
        let k = inputs.classes.len();
        let mut by_class: Vec<Vec<Vec<f64>>> = vec![Vec::new(); k];
        let mut rows = Vec::new();
        let n = inputs.predicted.len();
        // An even stride over the data, not its first rows (files are
        // often sorted).
        let stride = (n / (POOL_PER_CLASS * k.max(1))).max(1);
        for (i, &p) in inputs.predicted.iter().enumerate().step_by(stride) {
            let Some(raw) = inputs.x.get(i * d..(i + 1) * d) else {
                continue;
            };
            let z = domain.scale(raw);
            if let Some(c) = by_class.get_mut(p as usize) {
                if c.len() < POOL_PER_CLASS {
                    c.push(z.clone());
                }
            }
            if rows.len() < POOL_PER_CLASS * 2 {
                rows.push(z);
            }
        }
        Pool { by_class, rows }
    }

    /// The nearest kept row that the model puts where the goal is, moved
    /// onto the input's fixed features (then checked by a query).
    pub fn nearest(&self, probe: &Probe<'_>) -> Vec<Vec<f64>> {
        let goal = probe.goal;
        let mut near: Vec<(f64, &Vec<f64>)> = self
            .by_class
            .iter()
            .enumerate()
            .filter(|(c, _)| goal.reached(*c as u32))
            .flat_map(|(_, rows)| rows.iter())
            .map(|r| (l2(r, &probe.x0), r))
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        near.into_iter()
            .take(5)
            .map(|(_, r)| {
                let mut z = r.clone();
                probe.domain().project(&mut z, &probe.x0);
                z
            })
            .collect()
    }
}

/// A first adversarial point for the decision-based attacks: the nearest
/// data rows of another class, else uniform noise (as HopSkipJump's
/// authors start).
pub(crate) fn start(probe: &mut Probe<'_>, pool: &Pool) -> Result<Option<Vec<f64>>, Error> {
    let d = probe.domain().dim();
    let near = pool.nearest(probe);
    if !near.is_empty() {
        let flat: Vec<f64> = near.concat();
        if let Some(a) = probe.ask(&flat)? {
            let goal = probe.goal;
            if let Some(i) = a.labels.iter().position(|&l| goal.reached(l)) {
                return Ok(flat.get(i * d..(i + 1) * d).map(<[f64]>::to_vec));
            }
        }
    }
    for _ in 0..10 {
        let mut z: Vec<f64> = (0..10 * d)
            .map(|i| probe.rng.gen::<f64>() * probe.domain().upper(i % d.max(1)))
            .collect();
        for chunk in z.chunks_mut(d) {
            let x0 = probe.x0.clone();
            probe.domain().project(chunk, &x0);
        }
        let Some(a) = probe.ask(&z)? else {
            return Ok(None);
        };
        let goal = probe.goal;
        if let Some(i) = a.labels.iter().position(|&l| goal.reached(l)) {
            return Ok(z.get(i * d..(i + 1) * d).map(<[f64]>::to_vec));
        }
    }
    Ok(None)
}

/// The point on the segment from the input to `adv` nearest the input
/// that still reaches the goal, to within `tolerance` of the segment.
pub(crate) fn bisect(
    probe: &mut Probe<'_>,
    adv: &[f64],
    tolerance: f64,
) -> Result<Vec<f64>, Error> {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let blend = |t: f64, x0: &[f64]| -> Vec<f64> {
        x0.iter().zip(adv).map(|(a, b)| a + t * (b - a)).collect()
    };
    while hi - lo > tolerance {
        let mid = (lo + hi) / 2.0;
        let z = blend(mid, &probe.x0);
        match probe.adversarial(&z)? {
            Some(true) => hi = mid,
            Some(false) => lo = mid,
            None => break,
        }
    }
    Ok(blend(hi, &probe.x0))
}

fn report(
    attack: Attack,
    outcomes: &[(usize, Outcome)],
    inputs: &Inputs<'_>,
    domain: &Domain,
    target: Option<u32>,
    o: &Options,
) -> Report {
    let d = domain.dim();
    let (mut l2s, mut linfs, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    let mut examples = Vec::new();
    for (row, out) in outcomes {
        let Some((z, label)) = &out.found else {
            continue;
        };
        let x = domain.raw(z);
        let x0 = inputs.x.get(row * d..(row + 1) * d).unwrap_or(&[]);
        let a: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let b: Vec<f64> = x0.iter().map(|&v| f64::from(v)).collect();
        l2s.push(l2(&a, &b));
        linfs.push(linf(&a, &b));
        changed.push(a.iter().zip(&b).filter(|(p, q)| p != q).count() as f64);
        examples.push(Example {
            row: *row,
            line: inputs.lines.get(*row).copied().unwrap_or(0),
            x,
            predicted: *label,
        });
    }
    let queries: Vec<f64> = outcomes.iter().map(|(_, o)| o.queries as f64).collect();
    let attacked = outcomes.len();
    let succeeded = examples.len();
    Report {
        attack,
        target: target.and_then(|t| inputs.classes.get(t as usize).cloned()),
        queries_per_input: o.queries,
        epsilon: matches!(attack, Attack::Simba | Attack::Square).then_some(o.epsilon),
        seed: o.seed,
        immutable: o.immutable.clone(),
        categorical: o.categorical.clone(),
        bounds: o.bounds,
        attacked,
        succeeded,
        success_rate: (attacked > 0).then(|| succeeded as f64 / attacked as f64),
        l2_histogram: histogram(&l2s, 10),
        l2: Spread::of(&l2s),
        linf: Spread::of(&linfs),
        changed: Spread::of(&changed),
        queries: Spread::of(&queries),
        examples,
    }
}

fn histogram(values: &[f64], bins: usize) -> Vec<u64> {
    let max = values.iter().copied().fold(0.0, f64::max);
    let mut h = vec![0u64; bins];
    for &v in values {
        let i = if max > 0.0 {
            ((v / max * bins as f64) as usize).min(bins.saturating_sub(1))
        } else {
            0
        };
        if let Some(c) = h.get_mut(i) {
            *c += 1;
        }
    }
    h
}
