//! Drift between a reference dataset and a current one, column by column:
//! a two-sample test or distance per column, p-values corrected for the
//! number of columns tested, and the share of drifted columns.
//!
//! A side is a raw file (its values observed one by one) or a profile.
//! A raw column's values are kept exactly up to a limit, so that small and
//! medium samples get scipy's statistics to the last digits; past the limit
//! (and always for a profile) a column is compared through its t-digest.
//! Memory is then bounded by the limit and the sketches, not by the rows.

use crate::sketch::{key_number, number_key, show_number, Quantiles, TOP_COUNTERS};
use crate::spread::ColumnSink;
use crate::{classify, Column, Kind, Profile, MAX_COLUMNS};
use rampart_stats::correct::{adjust, Correction};
use rampart_stats::distance::{wasserstein, Binned};
use rampart_stats::{chi2, ks};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::HashMap;

/// Distinct values kept exactly per categorical column; a column with
/// more (an identifier, free text) is not tested.
pub const MAX_CATEGORIES: usize = 10_000;

/// Numeric columns with at most this many distinct values (both sides
/// together) are tested as categories, as Evidently does.
pub const MAX_NUMERIC_CATEGORIES: usize = 5;

/// Points at which a t-digest is read back as a sample.
const SKETCH_POINTS: usize = 1_000;

/// How far a t-digest's CDF, read back at 1,000 ranks, may be off (in share
/// of rows): 0.0011 to 0.0015 measured on a million values of three shapes,
/// checked on 200,000 by the test `sketch_error_is_bounded`. A
/// KS statistic from sketches is lowered by this much per sketched side
/// before its p-value is computed, so that the sketch's own error is never
/// taken for drift.
pub const SKETCH_ERROR: f64 = 0.002;

/// Exact counts of a column's non-null values: numbers by value (as the
/// profile counts them), other values by text.
#[derive(Clone, Debug, Default)]
struct Counts {
    texts: FxHashMap<String, u64>,
    numbers: FxHashMap<u64, u64>,
}

impl Counts {
    fn len(&self) -> usize {
        self.texts.len() + self.numbers.len()
    }

    /// Every value as text with its count.
    fn to_map(&self) -> HashMap<String, f64> {
        let mut out: HashMap<String, f64> = self
            .texts
            .iter()
            .map(|(k, &n)| (k.clone(), n as f64))
            .collect();
        for (k, &n) in &self.numbers {
            *out.entry(show_number(key_number(*k))).or_default() += n as f64;
        }
        out
    }
}

/// One column of one side.
#[derive(Clone, Debug)]
pub struct Sample {
    column: Column,
    /// Finite numbers, while at most `limit`.
    numbers: Option<Vec<f64>>,
    limit: usize,
    /// Counts of non-null values, while at most [`MAX_CATEGORIES`].
    values: Option<Counts>,
}

impl Sample {
    fn new(name: &str, limit: usize) -> Sample {
        Sample {
            column: Column::new(name),
            numbers: Some(Vec::new()),
            limit,
            values: Some(Counts::default()),
        }
    }

    /// The sample with its column's numbers all summarised.
    fn finished(&self) -> std::borrow::Cow<'_, Sample> {
        let mut s = std::borrow::Cow::Borrowed(self);
        if self.column.has_pending() {
            s.to_mut().column.finish();
        }
        s
    }

    fn add_number(&mut self, x: f64) {
        if self.numbers.as_ref().is_some_and(|v| v.len() >= self.limit) {
            self.numbers = None;
        }
        if let Some(v) = self.numbers.as_mut() {
            v.push(x);
        }
        if let Some(counts) = self.values.as_mut() {
            let key = number_key(x);
            if let Some(n) = counts.numbers.get_mut(&key) {
                *n += 1;
            } else if counts.len() < MAX_CATEGORIES {
                counts.numbers.insert(key, 1);
            } else {
                self.values = None;
            }
        }
    }

    fn add_text(&mut self, value: &str) {
        self.add_text_n(value, 1);
    }

    fn add_text_n(&mut self, value: &str, count: u64) {
        if let Some(counts) = self.values.as_mut() {
            if let Some(n) = counts.texts.get_mut(value) {
                *n += count;
            } else if counts.len() < MAX_CATEGORIES {
                counts.texts.insert(value.to_string(), count);
            } else {
                self.values = None;
            }
        }
    }
}

impl crate::spread::ColumnSink for Sample {
    fn observe(&mut self, value: &str) {
        let (kind, number) = classify(value);
        self.column.record(value, kind, number);
        match number {
            _ if kind == Kind::Null => {}
            Some(x) => self.add_number(x),
            None => self.add_text(value),
        }
    }

    fn observe_counted(&mut self, value: &str, count: u64) {
        let (kind, number) = classify(value);
        self.column.record_n(value, kind, number, count);
        match number {
            _ if kind == Kind::Null => {}
            Some(x) => (0..count).for_each(|_| self.add_number(x)),
            None => self.add_text_n(value, count),
        }
    }

    fn observe_numbers(&mut self, kind: Kind, values: &[f64], nulls: u64) {
        self.column.record_numbers(kind, values, nulls);
        if self.numbers.is_none() && self.values.is_none() {
            // Past the exact limit and the categories: only the column's
            // sketches still learn from the values.
            return;
        }
        for &x in values {
            if x.is_finite() {
                self.add_number(x);
            } else {
                self.add_text(&x.to_string());
            }
        }
    }

    fn finish(&mut self) {
        self.column.finish();
    }
}

/// One side of a comparison: a dataset's columns, observed value by value
/// (or read from a profile).
#[derive(Clone, Debug)]
pub struct Side {
    pub rows: u64,
    samples: Vec<Sample>,
    limit: usize,
    /// Values of columns past [`MAX_COLUMNS`], not kept.
    pub dropped_values: u64,
    /// Where the next value most likely goes (see `find_column`).
    next: usize,
}

impl Side {
    /// An empty side that keeps up to `limit` numbers of a column exactly.
    pub fn new(limit: usize) -> Side {
        Side {
            rows: 0,
            samples: Vec::new(),
            limit,
            dropped_values: 0,
            next: 0,
        }
    }

    /// A side known only by its profile: every column through its sketches.
    pub fn from_profile(profile: &Profile) -> Side {
        Side {
            rows: profile.rows,
            samples: profile
                .columns
                .iter()
                .map(|c| Sample {
                    column: c.clone(),
                    numbers: None,
                    limit: 0,
                    values: None,
                })
                .collect(),
            limit: 0,
            dropped_values: profile.dropped_values,
            next: 0,
        }
    }

    pub fn observe(&mut self, column: &str, value: &str) {
        let found = crate::find_column(&self.samples, |s| &s.column.name, column, &mut self.next);
        let index = match found {
            Some(i) => i,
            None if self.samples.len() < MAX_COLUMNS => {
                self.samples.push(Sample::new(column, self.limit));
                self.samples.len() - 1
            }
            None => {
                self.dropped_values += 1;
                return;
            }
        };
        if let Some(s) = self.samples.get_mut(index) {
            s.observe(value);
        }
    }

    /// An accumulator for one column of a raw side, for a
    /// [`crate::spread::Spread`].
    pub fn sample(limit: usize) -> Sample {
        Sample::new("", limit)
    }

    /// A side of `rows` rows from columns observed by a
    /// [`crate::spread::Spread`].
    pub fn from_samples(
        rows: u64,
        samples: Vec<(String, Sample)>,
        dropped_values: u64,
        limit: usize,
    ) -> Side {
        Side {
            rows,
            samples: samples
                .into_iter()
                .map(|(name, mut s)| {
                    s.column.name = name;
                    s.column.finish();
                    s
                })
                .collect(),
            limit,
            dropped_values,
            next: 0,
        }
    }

    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.samples.iter().map(|s| s.column.name.as_str())
    }

    /// The columns whose top values a profile masked.
    pub fn masked_columns(&self) -> Vec<String> {
        self.samples
            .iter()
            .filter(|s| s.column.masked)
            .map(|s| s.column.name.clone())
            .collect()
    }

    /// Masks the values of the columns named, as a profile of this side
    /// would have been masked (`mask` is given the column and the value),
    /// so that a masked profile is compared with values masked alike.
    pub fn mask_columns(&mut self, names: &[String], mask: &dyn Fn(&str, &str) -> Option<String>) {
        for s in self
            .samples
            .iter_mut()
            .filter(|s| names.contains(&s.column.name))
        {
            let name = s.column.name.clone();
            s.column.mask_top(&|v| mask(&name, v));
            s.column.masked = true;
            if let Some(counts) = s.values.as_mut() {
                let mut texts: FxHashMap<String, u64> = FxHashMap::default();
                for (v, n) in counts.to_map() {
                    let v = mask(&name, &v).unwrap_or(v);
                    *texts.entry(v).or_default() += n as u64;
                }
                *counts = Counts {
                    texts,
                    numbers: FxHashMap::default(),
                };
            }
        }
    }
}

/// What decides whether a column drifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// KS for numeric columns, chi-squared for categories and numeric
    /// columns of at most five values.
    Auto,
    Ks,
    Chi2,
    Psi,
    JensenShannon,
    Wasserstein,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Ks => "ks",
            Method::Chi2 => "chi2",
            Method::Psi => "psi",
            Method::JensenShannon => "jensen-shannon",
            Method::Wasserstein => "wasserstein",
        }
    }
}

/// The distance at which a column drifted, for the distance methods
/// (Evidently's default for PSI, Jensen-Shannon and Wasserstein).
pub const DEFAULT_DISTANCE_THRESHOLD: f64 = 0.1;

/// How drift is decided. With the `clap` feature these are also the
/// command line's flags (`rampart data drift`), so the two cannot differ.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Options {
    /// What decides that a column drifted. auto: the KS test for numeric
    /// columns, chi-squared for categories and for numeric columns of at
    /// most 5 values; p-values corrected for the number of columns. psi,
    /// jensen-shannon, wasserstein: a distance at or above
    /// --distance-threshold (categorical columns use Jensen-Shannon for
    /// wasserstein).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = Method::Auto))]
    pub method: Method,
    /// Significance level of the tests, after correction.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.05))]
    pub alpha: f64,
    /// Distance at which a column drifted, for the distance methods (0.1
    /// is Evidently's).
    #[cfg_attr(feature = "clap", arg(long = "distance-threshold", value_name = "DISTANCE", default_value_t = DEFAULT_DISTANCE_THRESHOLD))]
    pub threshold: f64,
    /// Correction of p-values for testing many columns:
    /// Benjamini-Hochberg (false discovery rate), Bonferroni (any false
    /// alarm), or none.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = Correction::BenjaminiHochberg))]
    pub correction: Correction,
    /// The dataset drifted when at least this share of the tested columns
    /// did (exit 1).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.5))]
    pub drift_share: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Auto,
            alpha: 0.05,
            threshold: DEFAULT_DISTANCE_THRESHOLD,
            correction: Correction::BenjaminiHochberg,
            drift_share: 0.5,
        }
    }
}

/// One column's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnDrift {
    pub column: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The statistic that decided: "ks", "chi2", "psi", "jensen-shannon",
    /// "wasserstein" (normalised by the reference's standard deviation),
    /// or "none" when the column was not tested.
    pub test: &'static str,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    /// The p-value after the correction for many columns.
    pub p_adjusted: Option<f64>,
    pub drifted: bool,
    /// Whether the statistics used every value (false: through sketches).
    pub exact: bool,
    pub ks: Option<f64>,
    pub chi2: Option<f64>,
    pub psi: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    /// Non-null values compared, reference then current.
    pub values: [u64; 2],
    pub null_share: [f64; 2],
    /// Why the column drifted without a test, or was not tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub method: &'static str,
    pub correction: &'static str,
    pub alpha: f64,
    pub threshold: f64,
    pub rows: [u64; 2],
    pub columns: Vec<ColumnDrift>,
    /// Columns only the reference has.
    pub missing: Vec<String>,
    /// Columns only the current data has.
    pub added: Vec<String>,
    pub tested: usize,
    pub drifted: usize,
    pub drift_share: f64,
    pub dataset_drift: bool,
}

/// A column's values as a weighted sample in increasing order: exactly,
/// or read back from its t-digest at evenly spaced ranks.
fn numeric(s: &Sample) -> (Vec<(f64, f64)>, bool) {
    if let Some(v) = &s.numbers {
        return (rampart_stats::weighted(v.clone()), true);
    }
    match few_numbers(&s.column) {
        Some(exact) => (exact, true),
        None => (
            sketch_sample(&s.column.quantiles, s.column.numbers.count),
            false,
        ),
    }
}

/// A profiled column's numbers exactly, when its most frequent values
/// account for all of them (at most 64 distinct values: Misra-Gries
/// counts are then exact).
fn few_numbers(c: &Column) -> Option<Vec<(f64, f64)>> {
    let top = c.top.top(usize::MAX);
    if top.iter().fold(0u64, |a, t| a.saturating_add(t.1)) != c.numbers.count {
        return None;
    }
    let mut out = top
        .iter()
        .map(|(v, n)| Some((classify(v).1?, *n as f64)))
        .collect::<Option<Vec<(f64, f64)>>>()?;
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(out)
}

fn sketch_sample(q: &Quantiles, count: u64) -> Vec<(f64, f64)> {
    let weight = count as f64 / SKETCH_POINTS as f64;
    let ranks: Vec<f64> = (0..SKETCH_POINTS)
        .map(|i| (i as f64 + 0.5) / SKETCH_POINTS as f64)
        .collect();
    let mut out: Vec<(f64, f64)> = Vec::new();
    for x in q.quantiles(&ranks).unwrap_or_default() {
        if !x.is_finite() {
            // Only a hostile profile's digest gives these.
            continue;
        }
        match out.last_mut() {
            Some(last) if last.0 >= x => last.1 += weight,
            _ => out.push((x, weight)),
        }
    }
    out
}

/// A column's exact category counts: every value counted, or a profile
/// whose most frequent values are all of them.
fn exact_categories(s: &Sample) -> Option<HashMap<String, f64>> {
    if let Some(counts) = &s.values {
        return Some(counts.to_map());
    }
    let top = s.column.top.top(usize::MAX);
    let listed = top.iter().fold(0u64, |a, t| a.saturating_add(t.1));
    (listed == s.column.non_null()).then(|| top.into_iter().map(|(v, n)| (v, n as f64)).collect())
}

/// Both sides' category counts, compared alike. When both are exact,
/// every value. Otherwise both come from the same summary, the
/// Misra-Gries counters each side's column keeps (a raw side keeps them
/// too, fed the same values in the same order as a profile of it), so
/// identical data gives identical counts and never drifts.
///
/// A counter is a lower bound: a value's true count is between it and
/// the counter plus the side's error bound, `(rows - counted) / (K + 1)`
/// for K counters. Each value counted on either side is estimated at the
/// middle of that range on both sides (a value not counted on a side
/// lies between 0 and the bound there), and the rest of each side is one
/// bucket. The counters alone would read a value counted on one side and
/// just below the cut on the other as a change, and another draw of the
/// same data as drift.
fn categories(r: &Sample, c: &Sample) -> (HashMap<String, f64>, HashMap<String, f64>, bool) {
    if let (Some(a), Some(b)) = (exact_categories(r), exact_categories(c)) {
        return (a, b, true);
    }
    let (tr, tc) = (r.column.top.top(usize::MAX), c.column.top.top(usize::MAX));
    let mut values: Vec<&str> = tr.iter().chain(&tc).map(|(v, _)| v.as_str()).collect();
    values.sort_unstable();
    values.dedup();
    let estimate = |s: &Sample, top: &[(String, u64)]| {
        let counted = top.iter().fold(0u64, |a, t| a.saturating_add(t.1));
        let non_null = s.column.non_null();
        let half_error = non_null.saturating_sub(counted) as f64 / (2 * (TOP_COUNTERS + 1)) as f64;
        let mut out: HashMap<String, f64> = HashMap::new();
        let mut listed = 0.0;
        for v in &values {
            let n = top.iter().find(|(w, _)| w == v).map_or(0, |t| t.1) as f64 + half_error;
            listed += n;
            out.insert((*v).to_string(), n);
        }
        let rest = non_null as f64 - listed;
        if rest > 0.0 {
            out.insert("\u{0}other".to_string(), rest);
        }
        out
    };
    (estimate(r, &tr), estimate(c, &tc), false)
}

/// Whether a column's values are mostly distinct (ids, free text): a test
/// of their distribution would only say that new rows hold new values.
fn identifier_like(s: &Sample) -> bool {
    let non_null = s.column.non_null();
    let distinct = match &s.values {
        Some(map) => map.len() as u64,
        None => s.column.distinct_count(),
    };
    distinct > 20 && distinct * 2 > non_null
}

fn is_numeric(type_name: &str) -> bool {
    matches!(type_name, "integer" | "float")
}

/// Compares every column the two sides share.
pub fn compare(reference: &Side, current: &Side, o: &Options) -> Report {
    fn find<'a>(side: &'a Side, name: &str) -> Option<&'a Sample> {
        side.samples.iter().find(|s| s.column.name == name)
    }
    let mut columns = Vec::new();
    let mut missing = Vec::new();
    for r in &reference.samples {
        match find(current, &r.column.name) {
            Some(c) => columns.push(compare_column(r, c, o)),
            None => missing.push(r.column.name.clone()),
        }
    }
    let added: Vec<String> = current
        .samples
        .iter()
        .filter(|c| find(reference, &c.column.name).is_none())
        .map(|c| c.column.name.clone())
        .collect();
    let p: Vec<f64> = columns
        .iter()
        .map(|c| c.p_value.unwrap_or(f64::NAN))
        .collect();
    for (c, q) in columns.iter_mut().zip(adjust(&p, o.correction)) {
        if !q.is_nan() {
            c.p_adjusted = Some(q);
            c.drifted = c.drifted || q < o.alpha;
        }
    }
    let tested = columns
        .iter()
        .filter(|c| c.test != "none" || c.drifted)
        .count();
    let drifted = columns.iter().filter(|c| c.drifted).count();
    let share = if tested == 0 {
        0.0
    } else {
        drifted as f64 / tested as f64
    };
    Report {
        method: o.method.name(),
        correction: match o.correction {
            Correction::BenjaminiHochberg => "benjamini-hochberg",
            Correction::Bonferroni => "bonferroni",
            Correction::None => "none",
        },
        alpha: o.alpha,
        threshold: o.threshold,
        rows: [reference.rows, current.rows],
        columns,
        missing,
        added,
        tested,
        drifted,
        drift_share: share,
        dataset_drift: drifted > 0 && share >= o.drift_share,
    }
}

fn compare_column(r: &Sample, c: &Sample, o: &Options) -> ColumnDrift {
    // A side observed value by value may still hold a batch of numbers.
    let (r, c) = (r.finished(), c.finished());
    let (r, c) = (r.as_ref(), c.as_ref());
    let (rt, ct) = (r.column.type_name(), c.column.type_name());
    let null_share = |s: &Sample| {
        if s.column.count == 0 {
            0.0
        } else {
            s.column.kind_count(Kind::Null) as f64 / s.column.count as f64
        }
    };
    let non_null = |s: &Sample| s.column.non_null();
    let mut d = ColumnDrift {
        column: r.column.name.clone(),
        kind: if rt == ct {
            rt.to_string()
        } else {
            format!("{rt} -> {ct}")
        },
        test: "none",
        statistic: None,
        p_value: None,
        p_adjusted: None,
        drifted: false,
        exact: true,
        ks: None,
        chi2: None,
        psi: None,
        jensen_shannon: None,
        wasserstein_norm: None,
        values: [non_null(r), non_null(c)],
        null_share: [null_share(r), null_share(c)],
        note: None,
    };
    match (rt, ct) {
        ("null", "null") => d.note = Some("all values null on both sides".into()),
        ("null", _) | (_, "null") => {
            d.drifted = true;
            d.note = Some(format!(
                "all values null in the {}",
                if rt == "null" {
                    "reference"
                } else {
                    "current data"
                }
            ));
        }
        _ if is_numeric(rt) != is_numeric(ct) => {
            d.drifted = true;
            d.note = Some(format!("type changed from {rt} to {ct}"));
        }
        _ if is_numeric(rt) => numeric_column(r, c, rt == "integer" && ct == "integer", o, &mut d),
        _ => categorical_column(r, c, o, &mut d),
    }
    null_shift(r, c, &mut d);
    d
}

/// The tests above compare the values that are there: a column going
/// from no nulls to 90% nulls kept the same distribution of what was
/// left, and did not drift. A change in the null share of at least 0.1
/// that a two-proportion z-test puts at |z| > 3.3 (p < 0.001) is drift.
fn null_shift(r: &Sample, c: &Sample, d: &mut ColumnDrift) {
    let (n1, n2) = (r.column.count as f64, c.column.count as f64);
    let [p1, p2] = d.null_share;
    if d.drifted || n1 == 0.0 || n2 == 0.0 || (p1 - p2).abs() < 0.1 {
        return;
    }
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se > 0.0 && ((p1 - p2) / se).abs() > 3.3 {
        d.drifted = true;
        let note = format!("null share {:.1}% -> {:.1}%", p1 * 100.0, p2 * 100.0);
        d.note = Some(match d.note.take() {
            Some(n) => format!("{n}; {note}"),
            None => note,
        });
    }
}

fn numeric_column(r: &Sample, c: &Sample, integers: bool, o: &Options, d: &mut ColumnDrift) {
    let ((a, ea), (b, eb)) = (numeric(r), numeric(c));
    d.exact = ea && eb;
    if a.is_empty() || b.is_empty() {
        d.note = Some("no numbers to compare".into());
        return;
    }
    let distinct = if d.exact {
        rampart_stats::merged(&a, &b).count() as u64
    } else {
        r.column
            .distinct
            .estimate()
            .max(c.column.distinct.estimate())
    };
    if distinct as usize <= MAX_NUMERIC_CATEGORIES && o.method == Method::Auto {
        return categorical_column(r, c, o, d);
    }
    let (n1, n2) = (
        a.iter().map(|p| p.1).sum::<f64>(),
        b.iter().map(|p| p.1).sum::<f64>(),
    );
    let mut statistic = ks::statistic(&a, &b);
    let sketched = u32::from(!ea) + u32::from(!eb);
    if sketched > 0 {
        statistic = (statistic - SKETCH_ERROR * f64::from(sketched)).max(0.0);
    }
    let test = ks::test(n1.round() as u64, n2.round() as u64, statistic);
    d.ks = Some(test.statistic);
    let std = if ea {
        let mean = a.iter().map(|p| p.0 * p.1).sum::<f64>() / n1;
        (a.iter().map(|p| p.1 * (p.0 - mean).powi(2)).sum::<f64>() / n1).sqrt()
    } else {
        r.column.numbers.population_std().unwrap_or(0.0)
    };
    d.wasserstein_norm = Some(wasserstein(&a, &b) / std.max(0.001));
    let binned = Binned::new(&a, &b, integers);
    d.psi = Some(binned.psi());
    d.jensen_shannon = Some(binned.jensen_shannon());
    let counts: Vec<(f64, f64)> = binned
        .reference
        .iter()
        .zip(&binned.current)
        .map(|(x, y)| (x * n1, y * n2))
        .collect();
    let chi = chi2::homogeneity(&counts);
    d.chi2 = Some(chi.statistic);
    match o.method {
        Method::Auto | Method::Ks => decide_p(d, "ks", test.statistic, test.p_value),
        Method::Chi2 => decide_p(d, "chi2", chi.statistic, chi.p_value),
        Method::Psi => {
            let noise = Noise::new(binned.reference.len(), n1, n2);
            decide_distance(d, "psi", d.psi, o.threshold, noise.psi())
        }
        Method::JensenShannon => {
            let noise = Noise::new(binned.reference.len(), n1, n2);
            decide_distance(
                d,
                "jensen-shannon",
                d.jensen_shannon,
                o.threshold,
                noise.js(),
            )
        }
        Method::Wasserstein => decide_distance(
            d,
            "wasserstein",
            d.wasserstein_norm,
            o.threshold,
            Noise::NONE,
        ),
    }
}

fn categorical_column(r: &Sample, c: &Sample, o: &Options, d: &mut ColumnDrift) {
    let (a, b, exact) = categories(r, c);
    d.exact = exact;
    if a.is_empty() || b.is_empty() || identifier_like(r) || identifier_like(c) {
        d.note = Some(format!(
            "mostly distinct values, or more than {MAX_CATEGORIES} (an identifier or free text): not tested"
        ));
        return;
    }
    if !exact {
        novel_values(r, c, d);
    }
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let counts: Vec<(f64, f64)> = keys
        .iter()
        .map(|k| {
            (
                a.get(*k).copied().unwrap_or(0.0),
                b.get(*k).copied().unwrap_or(0.0),
            )
        })
        .collect();
    let chi = chi2::homogeneity(&counts);
    let pooled = pool_rare(&counts);
    let binned = Binned::categories(&pooled);
    d.chi2 = Some(chi.statistic);
    d.psi = Some(binned.psi());
    d.jensen_shannon = Some(binned.jensen_shannon());
    let total = |side: fn(&(f64, f64)) -> f64| pooled.iter().map(side).sum::<f64>();
    let noise = Noise::new(pooled.len(), total(|c| c.0), total(|c| c.1));
    match o.method {
        Method::Psi => decide_distance(d, "psi", d.psi, o.threshold, noise.psi()),
        Method::JensenShannon | Method::Wasserstein => decide_distance(
            d,
            "jensen-shannon",
            d.jensen_shannon,
            o.threshold,
            noise.js(),
        ),
        Method::Auto | Method::Ks | Method::Chi2 => decide_p(d, "chi2", chi.statistic, chi.p_value),
    }
}

/// Rows below which a category is rare on a side.
const RARE_ROWS: f64 = 20.0;

/// The categories rare on both sides pooled into one bin, for the
/// distances. Sampling noise alone gives PSI about `k (1/n1 + 1/n2)` over
/// k bins, and zero-filling makes a rare value seen on one side only look
/// like a large change: two draws of 300 categories of about ten rows
/// each give PSI 0.16, over the 0.1 threshold (Evidently does not pool,
/// and cries wolf there); pooled, 0.001. A change among rare values only
/// is left to the chi-squared test, which counts every category. Columns
/// whose categories all have 20 rows on a side are unchanged.
fn pool_rare(counts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (rare, common): (Vec<&(f64, f64)>, Vec<_>) = counts
        .iter()
        .partition(|(a, b)| *a < RARE_ROWS && *b < RARE_ROWS);
    if rare.len() < 2 {
        return counts.to_vec();
    }
    let pooled = rare.iter().fold((0.0, 0.0), |p, c| (p.0 + c.0, p.1 + c.1));
    common.into_iter().copied().chain([pooled]).collect()
}

/// Above this share of one side's distinct values that the other side
/// never holds, a sketched column has drifted. Another draw of the same
/// long-tailed distribution differs in its rare values, so the share is
/// set far above what resampling gives.
const NOVEL_SHARE: f64 = 0.8;

/// The counters see only frequent values: a column whose values were
/// replaced by others, each too rare to be counted (a new catalogue of
/// a thousand products), leaves them empty on both sides. Each side's
/// distinct values that the other lacks are estimated from the two
/// HyperLogLog counters, `|A ∪ B|` from their merge, and most values
/// being new (or gone) is drift.
fn novel_values(r: &Sample, c: &Sample, d: &mut ColumnDrift) {
    let (a, b) = (r.column.distinct.estimate(), c.column.distinct.estimate());
    if a < 20 || b < 20 {
        return;
    }
    let mut union = r.column.distinct.clone();
    union.merge(&c.column.distinct);
    let union = union.estimate() as f64;
    let (a, b) = (a as f64, b as f64);
    let new = ((union - a) / b).clamp(0.0, 1.0);
    let gone = ((union - b) / a).clamp(0.0, 1.0);
    if new > NOVEL_SHARE || gone > NOVEL_SHARE {
        d.drifted = true;
        d.note = Some(format!(
            "about {:.0}% of the current data's distinct values never occur in the reference, and {:.0}% of the reference's are gone (estimated from distinct-value sketches)",
            new * 100.0,
            gone * 100.0
        ));
    }
}

fn decide_p(d: &mut ColumnDrift, test: &'static str, statistic: f64, p: f64) {
    d.test = test;
    d.statistic = Some(statistic);
    d.p_value = Some(p);
}

/// What a distance reads between two samples of one distribution from
/// sampling alone, over `bins` bins of `n1` and `n2` rows. PSI is a
/// symmetric chi-squared divergence: about `(k - 1) (1/n1 + 1/n2)`; the
/// Jensen-Shannon divergence about an eighth of that. Two draws of 50
/// categories of 1,000 rows read PSI 0.098 and Jensen-Shannon distance
/// 0.11 on average, over the 0.1 thresholds: the decision is taken on the
/// distance less this floor (the reported value stays Evidently's).
#[derive(Clone, Copy)]
struct Noise(f64);

impl Noise {
    const NONE: Noise = Noise(0.0);

    fn new(bins: usize, n1: f64, n2: f64) -> Noise {
        if n1 <= 0.0 || n2 <= 0.0 {
            return Noise::NONE;
        }
        Noise(bins.saturating_sub(1) as f64 * (1.0 / n1 + 1.0 / n2))
    }

    /// The floor of PSI, a value to subtract.
    fn psi(self) -> Noise {
        self
    }

    /// The floor of the Jensen-Shannon divergence (the distance squared).
    fn js(self) -> Noise {
        Noise(self.0 / 8.0)
    }
}

fn decide_distance(
    d: &mut ColumnDrift,
    test: &'static str,
    value: Option<f64>,
    threshold: f64,
    noise: Noise,
) {
    d.test = test;
    d.statistic = value;
    let beyond_noise = |v: f64| match test {
        "jensen-shannon" => (v * v - noise.0).max(0.0).sqrt(),
        _ => (v - noise.0).max(0.0),
    };
    d.drifted = value.is_some_and(|v| beyond_noise(v) >= threshold);
    if let (Some(v), None, false) = (value, &d.note, d.drifted) {
        if v >= threshold {
            d.note = Some(format!(
                "{test} {v:.3} is mostly sampling noise ({:.3} beyond it, threshold {threshold}): no drift",
                beyond_noise(v)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn normal(rng: &mut impl Rng) -> f64 {
        // Box-Muller: enough for tests.
        let (u, v): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// A side of `n` rows: `x` normal shifted by `shift`, `city` with the
    /// share `paris` of Paris, `id` unique, `blank` always empty.
    fn side(n: usize, shift: f64, paris: f64, seed: u64, limit: usize) -> Side {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut s = Side::new(limit);
        for i in 0..n {
            s.rows += 1;
            s.observe("x", &format!("{}", normal(&mut rng) + shift));
            let city = if rng.gen::<f64>() < paris {
                "Paris"
            } else {
                "Lyon"
            };
            s.observe("city", city);
            s.observe("id", &format!("u{i}-{seed}"));
            s.observe("blank", "");
        }
        s
    }

    fn column<'a>(r: &'a Report, name: &str) -> &'a ColumnDrift {
        r.columns.iter().find(|c| c.column == name).unwrap()
    }

    #[test]
    fn same_distribution_does_not_drift_and_a_shift_does() {
        let o = Options::default();
        let same = compare(
            &side(2_000, 0.0, 0.3, 1, 100_000),
            &side(2_000, 0.0, 0.3, 2, 100_000),
            &o,
        );
        assert!(!same.dataset_drift, "{same:?}");
        assert_eq!(same.drifted, 0);
        let x = column(&same, "x");
        assert_eq!((x.test, x.exact), ("ks", true));
        assert!(x.p_value.unwrap() > 0.05);
        assert_eq!(column(&same, "city").test, "chi2");
        assert!(column(&same, "id")
            .note
            .as_deref()
            .unwrap()
            .contains("identifier"));
        assert!(column(&same, "blank")
            .note
            .as_deref()
            .unwrap()
            .contains("null on both"));

        let moved = compare(
            &side(2_000, 0.0, 0.3, 1, 100_000),
            &side(2_000, 0.3, 0.5, 2, 100_000),
            &o,
        );
        assert!(column(&moved, "x").drifted && column(&moved, "city").drifted);
        assert!(moved.dataset_drift, "{moved:?}");
        assert!(column(&moved, "x").p_adjusted.unwrap() >= column(&moved, "x").p_value.unwrap());
    }

    #[test]
    fn distance_methods_use_their_threshold() {
        let o = Options {
            method: Method::Wasserstein,
            threshold: 0.1,
            ..Options::default()
        };
        let r = compare(
            &side(20_000, 0.0, 0.3, 1, 100_000),
            &side(20_000, 0.2, 0.3, 2, 100_000),
            &o,
        );
        let x = column(&r, "x");
        assert_eq!(x.test, "wasserstein");
        assert!(
            x.drifted && x.statistic.unwrap() > 0.15 && x.statistic.unwrap() < 0.25,
            "{x:?}"
        );
        assert_eq!(column(&r, "city").test, "jensen-shannon");
        assert!(!column(&r, "city").drifted);
    }

    #[test]
    fn schema_and_type_changes_are_named() {
        let mut a = Side::new(10);
        let mut b = Side::new(10);
        for i in 0..50 {
            a.observe("n", &i.to_string());
            b.observe("n", &format!("v{i}"));
            a.observe("old", "1");
            b.observe("new", "1");
            a.observe("gone", &i.to_string());
            b.observe("gone", "");
        }
        let r = compare(&a, &b, &Options::default());
        assert_eq!(
            (r.missing.clone(), r.added.clone()),
            (vec!["old".to_string()], vec!["new".to_string()])
        );
        assert!(column(&r, "n")
            .note
            .as_deref()
            .unwrap()
            .contains("type changed from integer to string"));
        assert!(column(&r, "gone")
            .note
            .as_deref()
            .unwrap()
            .contains("null in the current"));
        assert_eq!(r.drifted, 2);
    }

    #[test]
    fn past_the_limit_columns_are_compared_through_sketches() {
        let o = Options::default();
        // 30,000 values, limit 1,000: sketches on both sides.
        let same = compare(
            &side(30_000, 0.0, 0.3, 1, 1_000),
            &side(30_000, 0.0, 0.3, 2, 1_000),
            &o,
        );
        let x = column(&same, "x");
        assert!(!x.exact && !x.drifted, "{x:?}");
        let moved = compare(
            &side(30_000, 0.0, 0.3, 1, 1_000),
            &side(30_000, 0.05, 0.3, 2, 1_000),
            &o,
        );
        assert!(column(&moved, "x").drifted, "{:?}", column(&moved, "x"));
        // A profile is a side too.
        let mut p = Profile::default();
        for v in ["a", "b", "a", "c"] {
            p.rows += 1;
            p.observe("city", v);
        }
        let r = compare(&Side::from_profile(&p), &Side::from_profile(&p), &o);
        // Its few values are all among the profile's top values: exact.
        assert!(column(&r, "city").exact && !r.dataset_drift);
    }

    /// A column of many repeated values (names: more than the profile's
    /// 64 counters hold), compared with its own profile: identical data
    /// never drifts; one value becoming common does.
    #[test]
    fn a_dataset_never_drifts_from_its_own_profile() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let names: Vec<String> = (0..20_000)
            .map(|_| format!("name{}", (rng.gen::<f64>().powi(3) * 3_000.0) as u32))
            .collect();
        let raw = |values: &[String]| {
            let mut s = Side::new(100_000);
            for v in values {
                s.rows += 1;
                s.observe("name", v);
            }
            s
        };
        let mut p = Profile::default();
        for v in &names {
            p.rows += 1;
            p.observe("name", v);
        }
        for c in &mut p.columns {
            c.finish();
        }
        let json = serde_json::to_string(&p).unwrap();
        let p: Profile = serde_json::from_str(&json).unwrap();
        let o = Options::default();
        let same = compare(&Side::from_profile(&p), &raw(&names), &o);
        let c = column(&same, "name");
        assert_eq!((c.test, c.exact), ("chi2", false), "{c:?}");
        assert!(!c.drifted && c.statistic.unwrap() < 1e-9, "{c:?}");
        assert!(!same.dataset_drift);
        // Either way round.
        let back = compare(&raw(&names), &Side::from_profile(&p), &o);
        assert!(!column(&back, "name").drifted);
        // Another draw of the same names is not drift either.
        let draw: Vec<String> = (0..20_000)
            .map(|_| format!("name{}", (rng.gen::<f64>().powi(3) * 3_000.0) as u32))
            .collect();
        let other = compare(&Side::from_profile(&p), &raw(&draw), &o);
        assert!(
            !column(&other, "name").drifted,
            "{:?}",
            column(&other, "name")
        );
        // The common names become rare and rare ones common. (A shift
        // among values past the 64 counters moves only the shared bucket,
        // which the counters' cuts make small: compare raw files, exact
        // up to 10,000 categories, to see those.)
        let moved: Vec<String> = names
            .iter()
            .map(|v| format!("name{}", 2_999 - v[4..].parse::<u32>().unwrap()))
            .collect();
        let r = compare(&Side::from_profile(&p), &raw(&moved), &o);
        assert!(column(&r, "name").drifted, "{:?}", column(&r, "name"));
        // A catalogue replaced by another, each value too rare for the
        // counters, is drift; another draw of the old one is not.
        let catalogue = |first: u32, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<String> {
            (0..5_000)
                .map(|_| format!("product{}", first + rng.gen_range(0..1_000u32)))
                .collect()
        };
        let old = catalogue(0, &mut rng);
        let mut p = Profile::default();
        for v in &old {
            p.rows += 1;
            p.observe("product", v);
        }
        for c in &mut p.columns {
            c.finish();
        }
        let raw = |values: &[String]| {
            let mut s = Side::new(100_000);
            for v in values {
                s.rows += 1;
                s.observe("product", v);
            }
            s
        };
        let again = compare(&Side::from_profile(&p), &raw(&catalogue(0, &mut rng)), &o);
        let c = column(&again, "product");
        assert!(!c.drifted && c.note.is_none(), "{c:?}");
        let new = compare(
            &Side::from_profile(&p),
            &raw(&catalogue(1_000, &mut rng)),
            &o,
        );
        let c = column(&new, "product");
        assert!(
            c.drifted && c.note.as_deref().unwrap().contains("never occur"),
            "{c:?}"
        );
    }

    #[test]
    fn a_column_going_null_drifts() {
        let side = |nulls: u32| {
            let mut s = Side::new(100_000);
            for i in 0..1_000u32 {
                s.rows += 1;
                let v = if i % 100 < nulls {
                    String::new()
                } else {
                    format!("{}", i % 7)
                };
                s.observe("x", &v);
            }
            s
        };
        let o = Options::default();
        let c = compare(&side(0), &side(90), &o).columns.remove(0);
        assert!(
            c.drifted && c.note.as_deref().unwrap().contains("null share"),
            "{c:?}"
        );
        let c = compare(&side(0), &side(2), &o).columns.remove(0);
        assert!(!c.drifted, "{c:?}");
    }

    #[test]
    fn distances_allow_for_sampling_noise() {
        // 50 categories, 1,000 rows a side: about 20 rows each, above the
        // pooling cut; raw PSI and Jensen-Shannon read near 0.1 from
        // sampling alone.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut draw = |shift: u32| {
            let mut s = Side::new(100_000);
            for _ in 0..1_000 {
                s.rows += 1;
                let c = rng.gen_range(0..50u32);
                let c = if c < shift { 0 } else { c };
                s.observe("c", &format!("c{c}"));
            }
            s
        };
        let reference = draw(0);
        for method in [Method::Psi, Method::JensenShannon] {
            let o = Options {
                method,
                ..Options::default()
            };
            for _ in 0..5 {
                let c = compare(&reference, &draw(0), &o).columns.remove(0);
                assert!(!c.drifted, "{c:?}");
            }
            // A fifth of the rows moved to one category is drift.
            let c = compare(&reference, &draw(10), &o).columns.remove(0);
            assert!(c.drifted, "{c:?}");
        }
    }

    #[test]
    fn distances_do_not_drift_between_draws_of_many_rare_categories() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut draw = || {
            let mut s = Side::new(100_000);
            for _ in 0..3_000 {
                s.rows += 1;
                s.observe("city", &format!("city{}", rng.gen_range(0..300u32)));
            }
            s
        };
        let (a, b) = (draw(), draw());
        for method in [Method::Psi, Method::JensenShannon] {
            let o = Options {
                method,
                ..Options::default()
            };
            let c = compare(&a, &b, &o).columns.remove(0);
            assert!(!c.drifted, "{c:?}");
            assert!(c.psi.unwrap() < 0.02, "{c:?}");
        }
        // Common categories are not pooled: a shift among them drifts.
        let mut shifted = Side::new(100_000);
        for i in 0..3_000u32 {
            shifted.rows += 1;
            shifted.observe(
                "city",
                &format!("city{}", if i % 3 == 0 { 0 } else { i % 30 }),
            );
        }
        let o = Options {
            method: Method::Psi,
            ..Options::default()
        };
        assert!(compare(&a, &shifted, &o).columns[0].drifted);
    }

    #[test]
    fn sketch_error_is_bounded() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let shapes: [fn(f64, f64) -> f64; 3] =
            [|u, _| u, |u, _| -u.ln(), |u, v| u * 10.0 + v.powi(8)];
        for shape in shapes {
            let mut s = Side::new(usize::MAX);
            for _ in 0..200_000 {
                let (u, v): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
                s.observe("x", &shape(u, v).to_string());
            }
            let col = &s.samples[0];
            let (exact, _) = numeric(col);
            let sketch = sketch_sample(&col.column.quantiles, col.column.numbers.count);
            let d = ks::statistic(&exact, &sketch);
            assert!(d <= SKETCH_ERROR, "{d}");
        }
    }
}
