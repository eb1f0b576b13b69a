//! Expectations: what a dataset must look like, written in TOML, proposed
//! from a profile ([`suggest`]) and checked in one streaming pass
//! ([`Validator`]). Failures name the expectation, the observed value and
//! a sample of failing rows.

use crate::{classify, Kind, Profile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Bounds {
    fn holds(&self, x: f64) -> bool {
        self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x <= m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotNull {
    /// The share of values that must be non-null.
    pub mostly: f64,
}

/// The reference distribution of a column, kept in the expectations so
/// that they are self-contained: the share of rows in each bin, and the
/// largest population stability index (PSI) allowed between it and the
/// data. Bins are cut at `cuts` for numbers (bin `i` holds values up to
/// `cuts[i]`, the last one the rest) or are `values` for categories (the
/// last bin holds every other value).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    pub shares: Vec<f64>,
    /// 0.1 is a small shift, 0.25 a large one by common practice.
    pub max_psi: f64,
}

/// Shares below this count as this in the PSI (an empty bin would make
/// it infinite), as Evidently does.
const PSI_FLOOR: f64 = 0.0001;

/// The population stability index of `actual` against `expected` shares:
/// the sum of (a - e) ln(a / e).
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(e, a)| {
            let (e, a) = (e.max(PSI_FLOOR), a.max(PSI_FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum()
}

impl Distribution {
    fn bins(&self) -> usize {
        self.cuts.len().max(self.values.len()) + 1
    }

    /// The bin of a value, or `None` for a non-number in numeric bins.
    fn bin(&self, value: &str, number: Option<f64>) -> Option<usize> {
        if self.cuts.is_empty() {
            let i = self.values.iter().position(|v| v == value);
            return Some(i.unwrap_or(self.values.len()));
        }
        let n = number?;
        Some(self.cuts.partition_point(|c| *c < n))
    }

    fn check(&self, column: &str) -> Result<(), String> {
        let problem = if !self.cuts.is_empty() && !self.values.is_empty() {
            Some("has both cuts and values")
        } else if self.shares.len() != self.bins() {
            Some("needs one share per bin (cuts or values, plus one)")
        } else if self.cuts.windows(2).any(|w| !matches!(w, [a, b] if a < b)) {
            Some("cuts must increase")
        } else if self.shares.iter().any(|s| !(0.0..=1.0).contains(s))
            || (self.shares.iter().sum::<f64>() - 1.0).abs() > 0.01
        {
            Some("shares must be between 0 and 1 and sum to 1")
        } else if self.max_psi.is_nan() || self.max_psi < 0.0 {
            Some("max_psi must be 0 or more")
        } else {
            None
        };
        match problem {
            Some(p) => Err(format!("expect {column}: distribution {p}")),
            None => Ok(()),
        }
    }
}

/// Expectations on one column.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnExpectation {
    pub column: String,
    /// integer, float (integers allowed), bool or string.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null: Option<NotNull>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// Every numeric value within.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Bounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// String lengths in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Bounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Bounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<Bounds>,
    /// Distance to the reference distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Row-count bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Bounds>,
    /// The columns the dataset must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Whether `columns` is also their order.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
    /// Column sets whose values together are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique_together: Vec<Vec<String>>,
    #[serde(default, rename = "expect", skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<ColumnExpectation>,
}

impl Expectations {
    pub fn parse(text: &str) -> Result<Expectations, crate::Error> {
        Self::parse_text(text).map_err(crate::Error::Expectations)
    }

    fn parse_text(text: &str) -> Result<Expectations, String> {
        let e: Expectations = toml::from_str(text).map_err(|e| e.to_string())?;
        if e.rows.is_none()
            && e.columns.is_empty()
            && e.unique_together.is_empty()
            && e.expect.is_empty()
        {
            return Err("no expectations: a file that expects nothing would pass any dataset; write them with `rampart data suggest`, or add rows, columns or [[expect]] entries".into());
        }
        let empty = |b: &Option<Bounds>| {
            b.as_ref()
                .is_some_and(|b| b.min.is_none() && b.max.is_none())
        };
        if empty(&e.rows) {
            return Err(
                "rows: neither min nor max: bounds that bound nothing pass any dataset".into(),
            );
        }
        for c in &e.expect {
            for (name, b) in [
                ("range", &c.range),
                ("length", &c.length),
                ("mean", &c.mean),
                ("std", &c.std),
            ] {
                if empty(b) {
                    return Err(format!(
                        "expect {}: {name} has neither min nor max: bounds that bound nothing pass any dataset",
                        c.column
                    ));
                }
            }
            if let Some(r) = &c.regex {
                regex::Regex::new(r).map_err(|err| format!("expect {}: regex: {err}", c.column))?;
            }
            if let Some(d) = &c.distribution {
                d.check(&c.column)?;
            }
            if let Some(k) = &c.kind {
                if !["integer", "float", "bool", "string"].contains(&k.as_str()) {
                    return Err(format!(
                        "expect {}: type {k:?}: use integer, float, bool or string",
                        c.column
                    ));
                }
            }
        }
        Ok(e)
    }
}

/// Widens an observed range by `tolerance` of its span on each side, but
/// never across zero: a column seen only non-negative (counts, ages,
/// prices) keeps a bound of 0, so a negative value is still caught.
fn widen(b: (f64, f64), tolerance: f64) -> Bounds {
    let (lo, hi) = b;
    let pad = (hi - lo).abs() * tolerance;
    // Rounded outwards to three significant digits of the span, so that
    // bounds (and the messages quoting them) read 4.05, not
    // 4.050000000000001.
    let scale = 10f64.powi(2 - (hi - lo).abs().max(f64::MIN_POSITIVE).log10().floor() as i32);
    // Within a millionth of a step counts as on it (3.9399999 is 3.94).
    let snap = |v: f64, out: fn(f64) -> f64| {
        let r = v.round();
        if (v - r).abs() < 1e-6 {
            r
        } else {
            out(v)
        }
    };
    let (mut min, mut max) = if scale.is_finite() && scale > 0.0 {
        (
            snap((lo - pad) * scale, f64::floor) / scale,
            snap((hi + pad) * scale, f64::ceil) / scale,
        )
    } else {
        (lo - pad, hi + pad)
    };
    if lo >= 0.0 {
        min = min.max(0.0);
    }
    if hi <= 0.0 {
        max = max.min(0.0);
    }
    Bounds {
        min: Some(min),
        max: Some(max),
    }
}

/// Deequ-style suggestions from a profile, with tolerances: types, nulls
/// (the observed non-null share less 1 point), ranges widened by 10% of
/// their span, allowed sets for columns of at most 20 values, lengths,
/// means within a tenth of a standard deviation... and the row count
/// within half of it. The user edits and commits them.
pub fn suggest(p: &mut Profile) -> Expectations {
    let mut e = Expectations {
        rows: Some(Bounds {
            min: Some((p.rows as f64 * 0.5).floor()),
            max: Some((p.rows as f64 * 1.5).ceil()),
        }),
        columns: p.columns.iter().map(|c| c.name.clone()).collect(),
        ..Expectations::default()
    };
    for c in &mut p.columns {
        c.finish();
        let nulls = c.kind_count(Kind::Null);
        let kind = c.type_name();
        let mut x = ColumnExpectation {
            column: c.name.clone(),
            kind: ["integer", "float", "bool", "string"]
                .contains(&kind)
                .then(|| kind.to_string()),
            ..ColumnExpectation::default()
        };
        if c.count > 0 {
            let share = 1.0 - nulls as f64 / c.count as f64;
            x.not_null = (share > 0.0).then(|| NotNull {
                mostly: ((share - 0.01).max(0.0) * 100.0).floor() / 100.0,
            });
        }
        let distinct = c.distinct_count();
        let non_null = c.count - nulls;
        // HyperLogLog is within about 2%, so "nearly all distinct" cannot
        // tell a key from a float column with a few repeats: uniqueness is
        // suggested only for integer or string columns named as keys.
        let name = c.name.to_lowercase();
        let keyish = name == "id"
            || name.ends_with("_id")
            || name.ends_with("id") && name.len() <= 4
            || name.contains("uuid")
            || name.ends_with("key");
        x.unique = keyish
            && (kind == "integer" || kind == "string")
            && nulls == 0
            && non_null > 10
            && distinct as f64 >= non_null as f64 * 0.98;
        // A range fails NaN and infinities, so it is not suggested for a
        // column that already holds them.
        let finite = c.kind_count(Kind::NonFinite) == 0;
        x.distribution = reference_distribution(c, kind, non_null);
        if let (Some(lo), Some(hi), true) = (c.numbers.min, c.numbers.max, finite) {
            x.range = Some(widen((lo, hi), 0.1));
            if let Some(s) = c.numbers.std() {
                x.mean = Some(Bounds {
                    min: Some(c.numbers.mean - 0.1 * s),
                    max: Some(c.numbers.mean + 0.1 * s),
                });
            }
        }
        if kind == "string" || kind == "bool" {
            let top = c.top.top(64);
            let covered: u64 = top.iter().map(|(_, n)| n).sum();
            // A masked column's values are masks: no set of them.
            if distinct <= 20 && covered == non_null && !c.masked {
                let mut values: Vec<String> = top.into_iter().map(|(v, _)| v).collect();
                values.sort();
                x.allowed = Some(values);
            }
            if let (Some(lo), Some(hi)) = (c.lengths.min, c.lengths.max) {
                x.length = Some(Bounds {
                    min: Some(lo.floor()),
                    max: Some((hi * 1.2).ceil()),
                });
            }
        }
        e.expect.push(x);
    }
    e
}

/// Rows a column needs before its distribution is suggested: with fewer,
/// deciles move from one sample to the next more than the PSI allows.
const DISTRIBUTION_ROWS: u64 = 1_000;

/// The suggested reference distribution of a column: deciles for numbers
/// (when the nine are distinct, so each bin holds a tenth of the rows),
/// exact shares for columns of at most 20 values, with `max_psi` 0.25.
fn reference_distribution(
    c: &mut crate::Column,
    kind: &str,
    non_null: u64,
) -> Option<Distribution> {
    if non_null < DISTRIBUTION_ROWS {
        return None;
    }
    if kind == "integer" || kind == "float" {
        let cuts: Vec<f64> = (1..10)
            .map(|d| c.quantiles.quantile(f64::from(d) / 10.0))
            .collect::<Option<Vec<f64>>>()?;
        let distinct = cuts.windows(2).all(|w| matches!(w, [a, b] if a < b));
        return distinct.then(|| Distribution {
            cuts,
            values: Vec::new(),
            shares: vec![0.1; 10],
            max_psi: 0.25,
        });
    }
    let top = c.top.top(64);
    let covered: u64 = top.iter().map(|(_, n)| n).sum();
    if top.len() > 20 || covered != non_null || c.masked {
        return None;
    }
    let mut shares: Vec<f64> = top
        .iter()
        .map(|(_, n)| *n as f64 / non_null as f64)
        .collect();
    shares.push(0.0);
    Some(Distribution {
        cuts: Vec::new(),
        values: top.into_iter().map(|(v, _)| v).collect(),
        shares,
        max_psi: 0.25,
    })
}

/// One failed expectation.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub column: Option<String>,
    pub expectation: String,
    pub observed: String,
    /// Line numbers and values of up to [`SAMPLE`] failing rows.
    pub rows: Vec<(u64, String)>,
    pub failing_rows: u64,
}

/// Failing rows shown per expectation.
pub const SAMPLE: usize = 5;

/// Shows a value of a column, masked if it holds personal data.
pub type Mask = Box<dyn Fn(&str, &str) -> String>;

/// Line numbers and shown values of failing rows.
type Sample = Vec<(u64, String)>;

/// A `unique_together` set being checked: the current record's values and
/// the hashes of the combinations seen.
#[derive(Default)]
struct Together {
    seen: HashSet<u64>,
    record: u64,
    line: u64,
    current: BTreeMap<String, String>,
    repeats: u64,
    sample: Vec<(u64, String)>,
}

impl Together {
    /// Ends the current record: its combination is checked when complete.
    fn close(&mut self, width: usize, mask: &dyn Fn(&str, &str) -> String) {
        if self.current.len() == width {
            let key: Vec<&str> = self.current.values().map(String::as_str).collect();
            if !self
                .seen
                .insert(xxhash_rust::xxh3::xxh3_64(key.join("\u{1f}").as_bytes()))
            {
                self.repeats += 1;
                if self.sample.len() < SAMPLE {
                    let shown: Vec<String> = self.current.iter().map(|(c, v)| mask(c, v)).collect();
                    self.sample.push((self.line, shown.join(", ")));
                }
            }
        }
        self.current.clear();
    }
}

#[derive(Default)]
struct ColumnState {
    count: u64,
    nulls: u64,
    /// Values per bin of the column's distribution.
    bins: Vec<u64>,
    numbers: crate::sketch::Moments,
    seen: HashSet<u64>,
    failures: BTreeMap<&'static str, (u64, Sample)>,
}

/// Checks expectations over a stream of values.
pub struct Validator {
    expectations: Expectations,
    regexes: Vec<Option<regex::Regex>>,
    state: Vec<ColumnState>,
    columns_seen: Vec<String>,
    together: Vec<Together>,
    /// Masks a value for display (the caller knows which columns hold
    /// personal data).
    mask: Mask,
}

impl Validator {
    pub fn new(expectations: Expectations, mask: Mask) -> Validator {
        let regexes = expectations
            .expect
            .iter()
            .map(|c| c.regex.as_deref().and_then(|r| regex::Regex::new(r).ok()))
            .collect();
        let state = expectations
            .expect
            .iter()
            .map(|_| ColumnState::default())
            .collect();
        let together = expectations
            .unique_together
            .iter()
            .map(|_| Together::default())
            .collect();
        Validator {
            expectations,
            regexes,
            state,
            columns_seen: Vec::new(),
            together,
            mask,
        }
    }

    /// One value of `column` in the record starting at `line`.
    pub fn observe(&mut self, record: u64, line: u64, column: &str, value: &str) {
        if self.columns_seen.len() < 4096 && !self.columns_seen.iter().any(|c| c == column) {
            self.columns_seen.push(column.to_string());
        }
        for (i, set) in self.expectations.unique_together.iter().enumerate() {
            if set.iter().any(|c| c == column) {
                if let Some(t) = self.together.get_mut(i) {
                    if t.record != record {
                        t.close(set.len(), &self.mask);
                        t.record = record;
                        t.line = line;
                    }
                    t.current.insert(column.to_string(), value.to_string());
                }
            }
        }
        let Some(i) = self
            .expectations
            .expect
            .iter()
            .position(|c| c.column == column)
        else {
            return;
        };
        let (Some(x), Some(s)) = (self.expectations.expect.get(i), self.state.get_mut(i)) else {
            return;
        };
        s.count += 1;
        let (kind, number) = classify(value);
        let shown = (self.mask)(column, value);
        let mut fail = |name: &'static str| {
            let f = s.failures.entry(name).or_default();
            f.0 += 1;
            if f.1.len() < SAMPLE {
                f.1.push((line, shown.clone()));
            }
        };
        if kind == Kind::Null {
            s.nulls += 1;
            return;
        }
        if let Some(k) = &x.kind {
            let ok = match k.as_str() {
                "integer" => kind == Kind::Integer,
                "float" => matches!(kind, Kind::Integer | Kind::Float),
                "bool" => kind == Kind::Bool,
                _ => true,
            };
            if !ok {
                fail("type");
            }
        }
        if x.unique && !s.seen.insert(xxhash_rust::xxh3::xxh3_64(value.as_bytes())) {
            fail("unique");
        }
        if let (Some(r), Some(n)) = (&x.range, number) {
            if !r.holds(n) {
                fail("range");
            }
        }
        if kind == Kind::NonFinite && x.range.is_some() {
            fail("range");
        }
        if let Some(n) = number {
            s.numbers.add(n);
        }
        if let Some(d) = &x.distribution {
            if let Some(b) = d.bin(value, number) {
                if s.bins.is_empty() {
                    s.bins = vec![0; d.bins()];
                }
                if let Some(slot) = s.bins.get_mut(b) {
                    *slot += 1;
                }
            }
        }
        if let Some(allowed) = &x.allowed {
            if !allowed.iter().any(|a| a == value) {
                fail("allowed");
            }
        }
        if let Some(Some(re)) = self.regexes.get(i) {
            if !re.is_match(value) {
                fail("regex");
            }
        }
        if let Some(l) = &x.length {
            if !l.holds(value.chars().count() as f64) {
                fail("length");
            }
        }
    }

    /// The failures, after the last value; `rows` is the record count.
    /// The expectations being checked.
    pub fn expectations(&self) -> &Expectations {
        &self.expectations
    }

    pub fn finish(mut self, rows: u64) -> Vec<Failure> {
        let mut out = Vec::new();
        let width: Vec<usize> = self
            .expectations
            .unique_together
            .iter()
            .map(Vec::len)
            .collect();
        for (t, (w, set)) in self
            .together
            .iter_mut()
            .zip(width.iter().zip(&self.expectations.unique_together))
        {
            t.close(*w, &self.mask);
            if t.repeats > 0 {
                out.push(Failure {
                    column: Some(set.join(", ")),
                    expectation: "unique together".into(),
                    observed: format!("{} rows repeat an earlier combination", t.repeats),
                    failing_rows: t.repeats,
                    rows: std::mem::take(&mut t.sample),
                });
            }
        }
        if let Some(b) = &self.expectations.rows {
            if !b.holds(rows as f64) {
                out.push(Failure {
                    column: None,
                    expectation: format!("rows within {}", show(b)),
                    observed: format!("{rows} rows"),
                    rows: Vec::new(),
                    failing_rows: 0,
                });
            }
        }
        let missing: Vec<&String> = self
            .expectations
            .columns
            .iter()
            .filter(|c| !self.columns_seen.contains(c))
            .collect();
        if !missing.is_empty() {
            out.push(Failure {
                column: None,
                expectation: "columns present".into(),
                observed: format!(
                    "missing {}",
                    missing
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                rows: Vec::new(),
                failing_rows: 0,
            });
        } else if self.expectations.ordered {
            let order: Vec<&String> = self
                .columns_seen
                .iter()
                .filter(|c| self.expectations.columns.contains(c))
                .collect();
            if order
                .iter()
                .zip(&self.expectations.columns)
                .any(|(a, b)| *a != b)
            {
                out.push(Failure {
                    column: None,
                    expectation: "column order".into(),
                    observed: self.columns_seen.join(", "),
                    rows: Vec::new(),
                    failing_rows: 0,
                });
            }
        }
        for (x, s) in self.expectations.expect.iter().zip(&mut self.state) {
            let col = Some(x.column.clone());
            for (name, (n, rows)) in std::mem::take(&mut s.failures) {
                out.push(Failure {
                    column: col.clone(),
                    expectation: describe(name, x),
                    observed: format!("{n} of {} values fail", s.count),
                    rows,
                    failing_rows: n,
                });
            }
            if let Some(nn) = &x.not_null {
                let share = if s.count == 0 {
                    0.0
                } else {
                    1.0 - s.nulls as f64 / s.count as f64
                };
                if share < nn.mostly {
                    out.push(Failure {
                        column: col.clone(),
                        expectation: format!("not null, mostly {}", nn.mostly),
                        observed: format!(
                            "{:.4} non-null ({} nulls of {})",
                            share, s.nulls, s.count
                        ),
                        rows: Vec::new(),
                        failing_rows: s.nulls,
                    });
                }
            }
            if let Some(b) = &x.mean {
                if s.numbers.count > 0 && !b.holds(s.numbers.mean) {
                    out.push(Failure {
                        column: col.clone(),
                        expectation: format!("mean within {}", show(b)),
                        observed: format!("mean {}", s.numbers.mean),
                        rows: Vec::new(),
                        failing_rows: 0,
                    });
                }
            }
            if let Some(d) = &x.distribution {
                let total = s.bins.iter().sum::<u64>();
                if total > 0 {
                    let actual: Vec<f64> =
                        s.bins.iter().map(|n| *n as f64 / total as f64).collect();
                    let value = psi(&d.shares, &actual);
                    if value > d.max_psi {
                        let moved: Vec<String> = d
                            .shares
                            .iter()
                            .zip(&actual)
                            .enumerate()
                            .filter(|(_, (e, a))| (*a - *e).abs() >= 0.05)
                            .map(|(i, (e, a))| {
                                format!(
                                    "{}: {:.1}% -> {:.1}%",
                                    bin_name(d, i),
                                    e * 100.0,
                                    a * 100.0
                                )
                            })
                            .collect();
                        out.push(Failure {
                            column: col.clone(),
                            expectation: format!("distribution within PSI {}", d.max_psi),
                            observed: format!("PSI {value:.3}; {}", moved.join(", ")),
                            rows: Vec::new(),
                            failing_rows: 0,
                        });
                    }
                }
            }
            if let (Some(b), Some(sd)) = (&x.std, s.numbers.std()) {
                if !b.holds(sd) {
                    out.push(Failure {
                        column: col.clone(),
                        expectation: format!("std within {}", show(b)),
                        observed: format!("std {sd}"),
                        rows: Vec::new(),
                        failing_rows: 0,
                    });
                }
            }
        }
        out
    }
}

/// A bin of a distribution, for people: `<= 31`, `> 64`, a value, or
/// `other values`.
fn bin_name(d: &Distribution, i: usize) -> String {
    if d.cuts.is_empty() {
        return d
            .values
            .get(i)
            .map_or("other values".into(), |v| format!("{v:?}"));
    }
    match (i.checked_sub(1).and_then(|j| d.cuts.get(j)), d.cuts.get(i)) {
        (_, Some(hi)) if i == 0 => format!("<= {hi}"),
        (Some(lo), Some(hi)) => format!("({lo}, {hi}]"),
        (Some(lo), None) => format!("> {lo}"),
        _ => format!("bin {i}"),
    }
}

fn show(b: &Bounds) -> String {
    format!(
        "[{}, {}]",
        b.min.map_or("-inf".into(), |m| m.to_string()),
        b.max.map_or("inf".into(), |m| m.to_string())
    )
}

fn describe(name: &str, x: &ColumnExpectation) -> String {
    match name {
        "type" => format!("type {}", x.kind.as_deref().unwrap_or("")),
        "range" => format!("range {}", x.range.as_ref().map_or(String::new(), show)),
        "length" => format!("length {}", x.length.as_ref().map_or(String::new(), show)),
        "allowed" => format!("one of {:?}", x.allowed.as_deref().unwrap_or(&[])),
        "regex" => format!("matches {}", x.regex.as_deref().unwrap_or("")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<(&'static str, String)>> {
        (0..200u32)
            .map(|i| {
                vec![
                    ("id", i.to_string()),
                    ("age", (20 + i % 50).to_string()),
                    ("city", ["Paris", "Lyon"][i as usize % 2].to_string()),
                ]
            })
            .collect()
    }

    fn profile(data: &[Vec<(&str, String)>]) -> Profile {
        let mut p = Profile::default();
        for row in data {
            p.rows += 1;
            for (c, v) in row {
                p.observe(c, v);
            }
        }
        p
    }

    fn validate(e: Expectations, data: &[Vec<(&str, String)>]) -> Vec<Failure> {
        let mut v = Validator::new(e, Box::new(|_, v| v.to_string()));
        for (r, row) in data.iter().enumerate() {
            for (c, val) in row {
                v.observe(r as u64 + 1, r as u64 + 2, c, val);
            }
        }
        v.finish(data.len() as u64)
    }

    #[test]
    fn psi_of_known_shares() {
        let v = psi(&[0.5, 0.5], &[0.7, 0.3]);
        assert!(
            (v - (0.2 * 1.4f64.ln() - 0.2 * 0.6f64.ln())).abs() < 1e-12,
            "{v}"
        );
        assert_eq!(psi(&[0.2, 0.8], &[0.2, 0.8]), 0.0);
        assert!(
            psi(&[0.5, 0.5], &[1.0, 0.0]).is_finite(),
            "empty bins are floored"
        );
    }

    /// 5,000 rows: a number spread evenly over [0, 1000) and a category
    /// of three values in shares 50/30/20; `shift` moves the numbers up
    /// and `mix` changes the category's shares.
    fn big(shift: f64, mix: [u32; 3]) -> Vec<Vec<(&'static str, String)>> {
        (0..5_000u32)
            .map(|i| {
                let x = f64::from(i * 7_919 % 5_000) / 5.0 + shift;
                let k = i % 100;
                let cat = if k < mix[0] {
                    "a"
                } else if k < mix[0] + mix[1] {
                    "b"
                } else {
                    "c"
                };
                vec![("x", x.to_string()), ("cat", cat.to_string())]
            })
            .collect()
    }

    #[test]
    fn distributions_are_suggested_hold_and_catch_shifts() {
        let data = big(0.0, [50, 30, 20]);
        let mut p = profile(&data);
        let e = suggest(&mut p);
        let dist = |c: &str| {
            e.expect
                .iter()
                .find(|x| x.column == c)
                .and_then(|x| x.distribution.clone())
        };
        let x = dist("x").expect("deciles for x");
        assert_eq!((x.cuts.len(), x.shares.len()), (9, 10));
        let cat = dist("cat").expect("shares for cat");
        assert_eq!(cat.values, vec!["a", "b", "c"]);
        assert_eq!(cat.shares, vec![0.5, 0.3, 0.2, 0.0]);
        // The suggestions survive TOML and hold on their own data.
        let e = Expectations::parse(&toml::to_string(&e).unwrap()).unwrap();
        let failures = validate(e.clone(), &data);
        assert!(
            failures
                .iter()
                .all(|f| !f.expectation.starts_with("distribution")),
            "{failures:?}"
        );
        // A shift of 30% of the range, and a new mix, fail with the bins that moved.
        let moved = validate(e.clone(), &big(300.0, [20, 30, 50]));
        let distribution: Vec<&Failure> = moved
            .iter()
            .filter(|f| f.expectation.starts_with("distribution"))
            .collect();
        assert_eq!(distribution.len(), 2, "{moved:?}");
        let cat_failure = distribution
            .iter()
            .find(|f| f.column.as_deref() == Some("cat"))
            .unwrap();
        assert!(
            cat_failure.observed.contains("\"a\": 50.0% -> 20.0%"),
            "{}",
            cat_failure.observed
        );
        // A small shift passes.
        let small = validate(e, &big(10.0, [50, 30, 20]));
        assert!(
            small
                .iter()
                .all(|f| !f.expectation.starts_with("distribution")),
            "{small:?}"
        );
    }

    #[test]
    fn malformed_distributions_are_refused() {
        for (bad, why) in [
            (
                "cuts = [1.0, 2.0]\nshares = [0.5, 0.5]\nmax_psi = 0.2",
                "one share per bin",
            ),
            (
                "cuts = [2.0, 1.0]\nshares = [0.3, 0.3, 0.4]\nmax_psi = 0.2",
                "increase",
            ),
            (
                "values = [\"a\"]\nshares = [0.9, 0.3]\nmax_psi = 0.2",
                "sum to 1",
            ),
            (
                "values = [\"a\"]\nshares = [0.5, 0.5]\nmax_psi = -1.0",
                "max_psi",
            ),
        ] {
            let text = format!("[[expect]]\ncolumn = \"x\"\n[expect.distribution]\n{bad}\n");
            let err = Expectations::parse(&text).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn suggested_ranges_do_not_cross_zero() {
        let b = |lo: f64, hi: f64| {
            let w = widen((lo, hi), 0.1);
            (w.min.unwrap(), w.max.unwrap())
        };
        // Sepal lengths 4.3..7.9 widen by 0.36 each side; counts from 0
        // and from 1 keep their floor at zero, as do negative-only columns
        // their ceiling; a column across zero widens both ways.
        assert_eq!(b(4.3, 7.9), (3.94, 8.26));
        // 4.5 - 0.45 is 4.050000000000001 in floating point.
        assert_eq!(b(4.5, 9.0), (4.05, 9.45));
        assert_eq!(b(0.0, 10.0), (0.0, 11.0));
        assert_eq!(b(1.0, 11.0), (0.0, 12.0));
        assert_eq!(b(-11.0, -1.0), (-12.0, 0.0));
        assert_eq!(b(-5.0, 5.0), (-6.0, 6.0));
    }

    #[test]
    fn suggestions_hold_on_their_own_data_and_catch_changes() {
        let data = rows();
        let mut p = profile(&data);
        let e = suggest(&mut p);
        let id = e.expect.iter().find(|x| x.column == "id").unwrap();
        assert!(id.unique && id.kind.as_deref() == Some("integer"));
        let city = e.expect.iter().find(|x| x.column == "city").unwrap();
        assert_eq!(
            city.allowed.as_deref(),
            Some(&["Lyon".to_string(), "Paris".to_string()][..])
        );
        let text = toml::to_string(&e).unwrap();
        let e = Expectations::parse(&text).unwrap();
        assert!(validate(e.clone(), &data).is_empty(), "{text}");
        let mut bad = data.clone();
        bad[5][0].1 = "3".into(); // a duplicate id
        bad[7][1].1 = "500".into(); // out of range
        bad[9][2].1 = "Nice".into(); // not allowed
        bad[11][1].1 = "old".into(); // wrong type
        let f = validate(e, &bad);
        let names: Vec<&str> = f.iter().map(|x| x.expectation.as_str()).collect();
        for want in ["unique", "range", "one of", "type integer"] {
            assert!(
                names.iter().any(|n| n.starts_with(want)),
                "{want} in {names:?}"
            );
        }
        let unique = f.iter().find(|x| x.expectation == "unique").unwrap();
        assert_eq!(
            unique.rows,
            vec![(7, "3".to_string())],
            "line and value of the failing row"
        );
    }

    #[test]
    fn nulls_rows_schema_and_compound_uniqueness() {
        let e = Expectations::parse(
            "columns = [\"id\", \"age\", \"zip\"]\nrows = { min = 500 }\nunique_together = [[\"age\", \"city\"]]\n\
             [[expect]]\ncolumn = \"age\"\nnot_null = { mostly = 1.0 }\nregex = \"^[0-9]+$\"\n",
        )
        .unwrap();
        let mut data = rows();
        data[3][1].1 = String::new();
        let f = validate(e, &data);
        let names: Vec<&str> = f.iter().map(|x| x.expectation.as_str()).collect();
        assert!(
            names.contains(&"columns present")
                && names.iter().any(|n| n.starts_with("rows within")),
            "{names:?}"
        );
        assert!(names.iter().any(|n| n.starts_with("not null")), "{names:?}");
        assert!(names.contains(&"unique together"), "{names:?}");
        assert!(Expectations::parse("[[expect]]\ncolumn = \"a\"\nregex = \"(\"").is_err());
        assert!(Expectations::parse("[[expect]]\ncolumn = \"a\"\ntype = \"date\"").is_err());
    }
}
