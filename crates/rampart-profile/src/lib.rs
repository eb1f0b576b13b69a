//! Dataset profiles: what a clean dataset looks like, from one streaming
//! pass over its values. Per column: the types seen, nulls, distinct
//! values (HyperLogLog), min/max/mean/std, quantiles (t-digest), the most
//! frequent values (Misra-Gries) and string lengths. Every part is a
//! mergeable sketch, so a dataset can be profiled in shards and the
//! profiles merged; memory depends on the number of columns, not rows.
//!
//! A profile is the reference that validation and drift compare against.

/// What the profile library refuses, said in full.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Not a profile this version reads, or two that cannot merge.
    #[error("{0}")]
    Profile(String),
    /// Expectations that cannot be used.
    #[error("{0}")]
    Expectations(String),
}

pub mod balance;
pub mod digest;
pub mod drift;
pub mod duplicates;
pub mod expect;
pub mod labels;
pub mod near;
pub mod outliers;
pub mod radix;
pub mod sketch;
pub mod spread;
pub mod triggers;

use serde::{Deserialize, Serialize};
use sketch::{Hll, Moments, Quantiles, TopValues};
use std::collections::BTreeMap;

/// The profile format's version; merging refuses other versions.
pub const VERSION: u32 = 1;

/// Most columns profiled (JSON paths can be many).
pub const MAX_COLUMNS: usize = 4096;

/// What a single value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Integer,
    Float,
    /// NaN or an infinity: counted, kept out of the moments.
    NonFinite,
    String,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Null,
        Kind::Bool,
        Kind::Integer,
        Kind::Float,
        Kind::NonFinite,
        Kind::String,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Integer => "integer",
            Kind::Float => "float",
            Kind::NonFinite => "non-finite",
            Kind::String => "string",
        }
    }
}

/// Values of each kind: a counter each, written as a map from kind name
/// to count (kinds never seen left out).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kinds([u64; 6]);

impl Kinds {
    pub fn add(&mut self, kind: Kind, n: u64) {
        if let Some(c) = self.0.get_mut(kind as usize) {
            *c = c.saturating_add(n);
        }
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(kind as usize).copied().unwrap_or(0)
    }

    fn merge(&mut self, o: &Kinds) {
        for k in Kind::ALL {
            self.add(k, o.get(k));
        }
    }

    fn to_map(&self) -> BTreeMap<&'static str, u64> {
        Kind::ALL
            .iter()
            .filter(|k| self.get(**k) > 0)
            .map(|k| (k.name(), self.get(*k)))
            .collect()
    }
}

impl Serialize for Kinds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Kinds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(d)?;
        let mut kinds = Kinds::default();
        for (name, n) in map {
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown value kind {name:?}")))?;
            kinds.add(kind, n);
        }
        Ok(kinds)
    }
}

/// Numbers a column holds before they are summarised as one batch:
/// sorted once, then counted, hashed and sketched run by run.
const NUMBER_BATCH: usize = 16384;

/// The kind of a value as text, and its number if it is one.
pub fn classify(v: &str) -> (Kind, Option<f64>) {
    let t = v.trim();
    match t {
        "" | "null" | "NULL" | "None" | "NA" | "N/A" | "n/a" => return (Kind::Null, None),
        "true" | "false" | "True" | "False" | "TRUE" | "FALSE" => return (Kind::Bool, None),
        _ => {}
    }
    if t.parse::<i64>().is_ok() {
        return (Kind::Integer, t.parse::<f64>().ok());
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => (Kind::Float, Some(x)),
        Ok(_) => (Kind::NonFinite, None),
        Err(_) => (Kind::String, None),
    }
}

/// Everything known about one column.
///
/// Numbers are summarised by value: `7`, `7.0` and a Parquet 7 are the
/// same distinct value and the same top value, whatever file they came
/// from. They wait in a batch until [`Column::finish`] (or a full batch);
/// every reader of the sketches below finishes the column first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// Values seen, nulls included.
    pub count: u64,
    /// Values of each kind.
    pub kinds: Kinds,
    pub distinct: Hll,
    /// Of the numeric values.
    pub numbers: Moments,
    pub quantiles: Quantiles,
    pub top: TopValues,
    /// String lengths in characters, of the non-null values that are not
    /// numbers.
    pub lengths: Moments,
    /// Finite numbers not yet summarised.
    #[serde(skip)]
    pending: Vec<f64>,
    /// Personal data in its top values was masked ([`Column::mask_top`]):
    /// they are no longer the values themselves.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
}

impl Column {
    pub fn new(name: &str) -> Column {
        Column {
            name: name.to_string(),
            ..Column::default()
        }
    }

    pub fn observe(&mut self, value: &str) {
        let (kind, number) = classify(value);
        self.record(value, kind, number);
    }

    /// Records a value already classified.
    pub fn record(&mut self, value: &str, kind: Kind, number: Option<f64>) {
        self.record_n(value, kind, number, 1);
    }

    /// Records `n` rows holding the same value, already classified (a
    /// columnar reader counts a batch's values by their dictionary code).
    pub fn record_n(&mut self, value: &str, kind: Kind, number: Option<f64>, n: u64) {
        self.count += n;
        self.kinds.add(kind, n);
        match number {
            _ if kind == Kind::Null => {}
            Some(x) if x.is_finite() => {
                for _ in 0..n {
                    self.pending.push(x);
                    if self.pending.len() >= NUMBER_BATCH {
                        self.finish();
                    }
                }
            }
            _ => {
                self.distinct.add(value.as_bytes());
                self.top.add_n(value, n);
                self.lengths.add_n(value.chars().count() as f64, n);
            }
        }
    }

    /// Records a batch of numbers of one kind (`Integer` or `Float`)
    /// and `nulls` nulls, as a columnar reader gives them; non-finite
    /// ones are recorded as their text.
    pub fn record_numbers(&mut self, kind: Kind, values: &[f64], nulls: u64) {
        self.count += nulls;
        self.kinds.add(Kind::Null, nulls);
        // The finite numbers before the first that is not (almost always
        // all of them) go in whole, a batch's room at a time.
        let finite = values.iter().take_while(|x| x.is_finite()).count();
        let (mut head, tail) = values.split_at(finite);
        while !head.is_empty() {
            let room = NUMBER_BATCH.saturating_sub(self.pending.len()).max(1);
            let (now, rest) = head.split_at(room.min(head.len()));
            self.count += now.len() as u64;
            self.kinds.add(kind, now.len() as u64);
            self.pending.extend_from_slice(now);
            if self.pending.len() >= NUMBER_BATCH {
                self.finish();
            }
            head = rest;
        }
        for &x in tail {
            if x.is_finite() {
                self.count += 1;
                self.kinds.add(kind, 1);
                self.pending.push(x);
                if self.pending.len() >= NUMBER_BATCH {
                    self.finish();
                }
            } else {
                self.record(&x.to_string(), Kind::NonFinite, None);
            }
        }
    }

    /// Summarises the numbers waiting in the batch: moments, then one
    /// sort of their keys, whose runs give the distinct values, the top
    /// values and the digest's sorted input.
    pub fn finish(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut moments = Moments::without_extremes(&self.pending);
        let mut keys: Vec<u64> = self
            .pending
            .iter()
            .map(|&x| sketch::number_key(x))
            .collect();
        radix::sort(&mut keys, &mut Vec::new());
        // One pass over the sorted keys gives the runs of equal values
        // (each new one a distinct value), the digest's sorted input (the
        // pending buffer, reused) and the extremes.
        self.pending.clear();
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for &k in &keys {
            self.pending.push(sketch::key_number(k));
            match runs.last_mut() {
                Some((last, n)) if *last == k => *n += 1,
                _ => {
                    self.distinct.add_number_key(k);
                    runs.push((k, 1));
                }
            }
        }
        moments.min = self.pending.first().copied();
        moments.max = self.pending.last().copied();
        self.numbers.merge(&moments);
        self.top.add_numbers(&runs);
        self.quantiles.add_sorted(&self.pending);
        self.pending.clear();
    }

    /// Whether numbers wait to be summarised (see [`Column::finish`]).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Rewrites the top values with `mask` (a value it returns `None` for
    /// stays), adding up values that become equal, and marks the column
    /// masked when any changed. Profiles are shared and committed, so the
    /// personal data among their values is masked before they are
    /// written; drift masks the other side alike before comparing.
    pub fn mask_top(&mut self, mask: &dyn Fn(&str) -> Option<String>) {
        self.finish();
        let mut changed = false;
        let mut top = TopValues::default();
        for (v, n) in self.top.top(usize::MAX) {
            match mask(&v) {
                Some(m) => {
                    changed = true;
                    top.add_n(&m, n);
                }
                None => top.add_n(&v, n),
            }
        }
        if changed {
            self.top = top;
            self.masked = true;
            // Card numbers or SSNs stored as numbers: the smallest, the
            // largest and the quantile centroids are such numbers too.
            // The count, mean and spread stay (no one value is in them).
            self.numbers.min = None;
            self.numbers.max = None;
            self.quantiles = Quantiles::default();
        }
    }

    pub fn merge(&mut self, o: &Column) {
        self.masked |= o.masked;
        self.finish();
        let mut o = std::borrow::Cow::Borrowed(o);
        if !o.pending.is_empty() {
            o.to_mut().finish();
        }
        self.count += o.count;
        self.kinds.merge(&o.kinds);
        self.distinct.merge(&o.distinct);
        self.numbers.merge(&o.numbers);
        self.quantiles.merge(&o.quantiles);
        self.top.merge(&o.top);
        self.lengths.merge(&o.lengths);
    }

    /// Values that are not null (saturating: a profile read from a file
    /// may claim more nulls than values).
    pub fn non_null(&self) -> u64 {
        self.count.saturating_sub(self.kind_count(Kind::Null))
    }

    /// Distinct non-null values: the HyperLogLog estimate, which can
    /// exceed the values themselves by its error, capped at their number.
    pub fn distinct_count(&self) -> u64 {
        self.distinct.estimate().min(self.non_null())
    }

    fn kind_count(&self, k: Kind) -> u64 {
        self.kinds.get(k)
    }

    /// The column's type: the kind most of its non-null values have
    /// (integers count as floats when both occur), or "null" when all are
    /// null; "mixed" when no kind has 95% of them.
    pub fn type_name(&self) -> &'static str {
        let non_null = self.non_null();
        if non_null == 0 {
            return "null";
        }
        let numeric = self.kind_count(Kind::Integer) + self.kind_count(Kind::Float);
        let candidates = [
            (
                if self.kind_count(Kind::Float) > 0 {
                    "float"
                } else {
                    "integer"
                },
                numeric,
            ),
            ("bool", self.kind_count(Kind::Bool)),
            ("string", self.kind_count(Kind::String)),
        ];
        let (name, n) = candidates
            .iter()
            .max_by_key(|c| c.1)
            .copied()
            .unwrap_or(("mixed", 0));
        if n as f64 >= 0.95 * non_null as f64 {
            name
        } else {
            "mixed"
        }
    }

    /// The derived statistics, for people and for validation.
    pub fn summary(&mut self) -> serde_json::Value {
        self.finish();
        let nulls = self.kind_count(Kind::Null);
        let qs: BTreeMap<String, Option<f64>> = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            .iter()
            .map(|&p| {
                (
                    format!("p{:02}", (p * 100.0_f64).round() as u32),
                    self.quantiles.quantile(p),
                )
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "type": self.type_name(),
            "count": self.count,
            "nulls": nulls,
            "null_share": if self.count == 0 { 0.0 } else { nulls as f64 / self.count as f64 },
            "non_finite": self.kind_count(Kind::NonFinite),
            "kinds": self.kinds.to_map(),
            "distinct": self.distinct_count(),
            "min": self.numbers.min,
            "max": self.numbers.max,
            "mean": (self.numbers.count > 0).then_some(self.numbers.mean),
            "std": self.numbers.std(),
            "quantiles": qs,
            "top": self.top.top(10),
            "length": {
                "min": self.lengths.min,
                "max": self.lengths.max,
                "mean": (self.lengths.count > 0).then_some(self.lengths.mean),
            },
        })
    }
}

/// Where a profile came from.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub file: String,
    pub format: String,
    pub sha256: String,
    pub rows: u64,
}

/// A dataset's profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    pub version: u32,
    pub rows: u64,
    /// The files profiled (several after a merge).
    pub sources: Vec<Source>,
    pub columns: Vec<Column>,
    /// Values of columns past [`MAX_COLUMNS`], not profiled.
    pub dropped_values: u64,
    /// The column after the last one observed: where the next value
    /// most likely goes.
    #[serde(skip)]
    next: usize,
}

/// Where `column` is among `items`, trying `*next` first, then the last
/// one found: values arrive row by row (the next column is the one after
/// the last) or, from a columnar file, column by column (the same one
/// again), so one or two comparisons find it.
pub(crate) fn find_column<T>(
    items: &[T],
    name: impl Fn(&T) -> &str,
    column: &str,
    next: &mut usize,
) -> Option<usize> {
    let last = next.checked_sub(1);
    let i = match (items.get(*next), last.and_then(|l| items.get(l))) {
        (Some(t), _) if name(t) == column => *next,
        (_, Some(t)) if name(t) == column => last.unwrap_or(0),
        _ => items.iter().position(|t| name(t) == column)?,
    };
    *next = i + 1;
    Some(i)
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            version: VERSION,
            rows: 0,
            sources: Vec::new(),
            columns: Vec::new(),
            dropped_values: 0,
            next: 0,
        }
    }
}

impl spread::ColumnSink for Column {
    fn observe(&mut self, value: &str) {
        Column::observe(self, value);
    }

    fn observe_counted(&mut self, value: &str, count: u64) {
        let (kind, number) = classify(value);
        self.record_n(value, kind, number, count);
    }

    fn observe_numbers(&mut self, kind: Kind, values: &[f64], nulls: u64) {
        self.record_numbers(kind, values, nulls);
    }

    fn finish(&mut self) {
        Column::finish(self);
    }
}

impl Profile {
    /// A profile of `rows` rows from columns observed elsewhere (by a
    /// [`spread::Spread`]).
    pub fn from_columns(rows: u64, columns: Vec<(String, Column)>, dropped_values: u64) -> Profile {
        Profile {
            rows,
            columns: columns
                .into_iter()
                .map(|(name, mut c)| {
                    c.name = name;
                    c.finish();
                    c
                })
                .collect(),
            dropped_values,
            ..Profile::default()
        }
    }

    /// Records one value of `column`.
    pub fn observe(&mut self, column: &str, value: &str) {
        let found = find_column(&self.columns, |c| &c.name, column, &mut self.next);
        if let Some(c) = found.and_then(|i| self.columns.get_mut(i)) {
            c.observe(value);
        } else if self.columns.len() < MAX_COLUMNS {
            let mut c = Column::new(column);
            c.observe(value);
            self.columns.push(c);
        } else {
            self.dropped_values += 1;
        }
    }

    /// Adds another profile's rows, sources and columns (matched by name;
    /// columns only one side has are kept as they are).
    pub fn merge(&mut self, o: &Profile) -> Result<(), Error> {
        if o.version != self.version {
            return Err(Error::Profile(format!(
                "profile version {} cannot merge with version {}",
                o.version, self.version
            )));
        }
        self.rows += o.rows;
        self.sources.extend(o.sources.iter().cloned());
        self.dropped_values += o.dropped_values;
        for oc in &o.columns {
            let full = self.columns.len() >= MAX_COLUMNS;
            match self.columns.iter_mut().find(|c| c.name == oc.name) {
                Some(c) => c.merge(oc),
                None if !full => self.columns.push(oc.clone()),
                None => self.dropped_values += oc.count,
            }
        }
        Ok(())
    }

    /// The profile with each column's derived statistics beside its
    /// sketches: what `rampart data profile` writes.
    pub fn to_json(&mut self) -> serde_json::Value {
        let summaries: Vec<serde_json::Value> =
            self.columns.iter_mut().map(Column::summary).collect();
        serde_json::json!({
            "version": self.version,
            "rows": self.rows,
            "sources": self.sources,
            "summary": summaries,
            "dropped_values": self.dropped_values,
            "sketches": self.columns,
        })
    }

    /// [`Profile::to_json`] as indented text, written straight from the
    /// sketches (no JSON tree is built of their thousands of numbers),
    /// with the columns' summaries.
    pub fn to_json_text(&mut self) -> Result<(String, Vec<serde_json::Value>), serde_json::Error> {
        let summary: Vec<serde_json::Value> =
            self.columns.iter_mut().map(Column::summary).collect();
        /// The fields of [`Profile::to_json`], in its (alphabetical) order.
        #[derive(Serialize)]
        struct Out<'a> {
            dropped_values: u64,
            rows: u64,
            sketches: &'a [Column],
            sources: &'a [Source],
            summary: &'a [serde_json::Value],
            version: u32,
        }
        let text = serde_json::to_string_pretty(&Out {
            dropped_values: self.dropped_values,
            rows: self.rows,
            sketches: &self.columns,
            sources: &self.sources,
            summary: &summary,
            version: self.version,
        })?;
        Ok((text, summary))
    }

    /// Reads what [`Profile::to_json`] wrote, from its bytes, straight
    /// into the sketches: no JSON tree is built on the way (a profile is
    /// about 100 KB a column, most of it numbers). Stricter than
    /// [`Profile::from_json`], whose messages a caller can fall back on.
    pub fn from_slice(bytes: &[u8]) -> Result<Profile, Error> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            version: u32,
            #[serde(default)]
            rows: u64,
            #[serde(default)]
            sources: Vec<Source>,
            sketches: Vec<Column>,
            #[serde(default)]
            dropped_values: u64,
        }
        let f: File = serde_json::from_slice(bytes)
            .map_err(|e| Error::Profile(format!("not a rampart profile: {e}")))?;
        Ok(Profile {
            version: f.version,
            rows: f.rows,
            sources: f.sources,
            columns: f.sketches,
            dropped_values: f.dropped_values,
            next: 0,
        })
    }

    /// Reads what [`Profile::to_json`] wrote.
    pub fn from_json(v: &serde_json::Value) -> Result<Profile, Error> {
        let columns: Vec<Column> =
            serde_json::from_value(v.get("sketches").cloned().unwrap_or_default())
                .map_err(|e| Error::Profile(format!("not a rampart profile: {e}")))?;
        Ok(Profile {
            version: v.get("version").and_then(|x| x.as_u64()).unwrap_or(0) as u32,
            rows: v.get("rows").and_then(|x| x.as_u64()).unwrap_or(0),
            sources: serde_json::from_value(v.get("sources").cloned().unwrap_or_default())
                .unwrap_or_default(),
            columns,
            dropped_values: v
                .get("dropped_values")
                .and_then(|x| x.as_u64())
                .unwrap_or(0),
            next: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(rows: std::ops::Range<u32>) -> Profile {
        let mut p = Profile::default();
        for i in rows {
            p.rows += 1;
            p.observe("id", &i.to_string());
            p.observe("x", &format!("{}", f64::from(i % 100) / 10.0));
            p.observe("city", if i % 4 == 0 { "Paris" } else { "Lyon" });
            p.observe("note", if i % 10 == 0 { "" } else { "ok" });
        }
        p
    }

    /// A profile read from its bytes equals the one read through a JSON
    /// tree, sketches and all; bytes that are not a profile are refused.
    #[test]
    fn profiles_read_from_bytes_as_from_json() {
        let mut p = profile(0..5_000);
        let v = p.to_json();
        let bytes = serde_json::to_vec(&v).unwrap();
        let mut fast = Profile::from_slice(&bytes).unwrap();
        let tree: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut slow = Profile::from_json(&tree).unwrap();
        assert_eq!((fast.rows, fast.columns.len()), (5_000, 4));
        let (a, b) = (fast.to_json(), slow.to_json());
        assert!(a == b, "the two readings differ");
        assert!(Profile::from_slice(br#"{"rows": 3}"#).is_err());
        // The text written straight from the sketches is the same JSON.
        let (text, summary) = p.to_json_text().unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(back == tree, "the text differs from the tree");
        assert_eq!(serde_json::Value::from(summary), v["summary"]);
        assert!(Profile::from_slice(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn columns_types_nulls_and_statistics() {
        let mut p = profile(0..10_000);
        let v = p.to_json();
        let col = |n: &str| {
            v["summary"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == n)
                .unwrap()
                .clone()
        };
        assert_eq!(col("id")["type"], "integer");
        assert_eq!(col("x")["type"], "float");
        assert_eq!(col("city")["type"], "string");
        assert_eq!(col("note")["nulls"], 1000);
        assert!((col("note")["null_share"].as_f64().unwrap() - 0.1).abs() < 1e-12);
        let d = col("id")["distinct"].as_u64().unwrap() as f64;
        assert!((d - 10_000.0).abs() < 200.0, "{d}");
        assert_eq!(col("city")["distinct"], 2);
        assert_eq!(
            (col("id")["min"].as_f64(), col("id")["max"].as_f64()),
            (Some(0.0), Some(9_999.0))
        );
        assert!((col("id")["mean"].as_f64().unwrap() - 4_999.5).abs() < 1e-9);
        assert!((col("id")["quantiles"]["p50"].as_f64().unwrap() - 5_000.0).abs() < 100.0);
        assert_eq!(col("city")["top"][0][0], "Lyon");
        assert_eq!(classify(" NaN ").0, Kind::NonFinite);
        assert_eq!(classify("inf").0, Kind::NonFinite);
    }

    /// Numbers are summarised by value across batches: spellings of one
    /// number are one value, counts of few values are exact, and a batch
    /// handed over as numbers gives the same summary as the same numbers
    /// as text.
    #[test]
    fn numbers_are_counted_by_value_across_batches() {
        let mut text = Column::new("x");
        let mut typed = Column::new("x");
        let xs: Vec<f64> = (0..30_000).map(|i| f64::from(i % 3) * 1.5).collect();
        for x in &xs {
            text.observe(&format!("{x:.2}"));
        }
        for chunk in xs.chunks(4096) {
            typed.record_numbers(Kind::Float, chunk, 2);
        }
        text.observe("");
        text.observe("");
        let (a, b) = (text.summary(), typed.summary());
        assert_eq!(a["distinct"], 3);
        assert_eq!(
            a["top"],
            serde_json::json!([["0", 10_000], ["1.5", 10_000], ["3", 10_000]])
        );
        for k in ["distinct", "top", "min", "max", "mean", "quantiles"] {
            assert_eq!(a[k], b[k], "{k}");
        }
        assert_eq!(a["kinds"], serde_json::json!({"float": 30_000, "null": 2}));
        assert_eq!(b["nulls"], 16);
        // Numbers have no string length.
        assert_eq!(a["length"]["max"], serde_json::Value::Null);
        let mut one = Column::new("n");
        for v in ["7", "7.0", "7.00", "07"] {
            one.observe(v);
        }
        assert_eq!(one.summary()["distinct"], 1);
        // NaN from a columnar reader is counted as non-finite, as its text is.
        let mut nan = Column::new("n");
        nan.record_numbers(Kind::Float, &[f64::NAN, 1.0], 0);
        let kinds = nan.summary()["kinds"].clone();
        assert_eq!(kinds, serde_json::json!({"float": 1, "non-finite": 1}));
    }

    /// With many distinct numbers the top values keep Misra-Gries' bound:
    /// a value holding a fifth of the rows is found, its count low by at
    /// most n / 65.
    #[test]
    fn numeric_top_values_keep_their_bound() {
        let mut c = Column::new("x");
        let n = 100_000u32;
        for i in 0..n {
            let v = if i % 5 == 0 { 42.0 } else { f64::from(i) + 0.5 };
            c.observe(&v.to_string());
        }
        let top = c.summary()["top"].clone();
        assert_eq!(top[0][0], "42");
        let count = top[0][1].as_u64().unwrap();
        assert!(
            count <= 20_000 && count + u64::from(n) / 65 >= 20_000,
            "{count}"
        );
    }

    /// Numbers near f64::MAX: the mean does not overflow, the variance
    /// that does is written as null and read back, and the top values
    /// read back as the numbers they count.
    #[test]
    fn extreme_numbers_round_trip() {
        let mut p = Profile::default();
        for v in ["1e308", "-1e308", "1.5e308", "2.5e-300"] {
            p.rows += 1;
            p.observe("x", v);
        }
        let json = p.to_json();
        assert!(json["summary"][0]["mean"].as_f64().unwrap().is_finite());
        assert!(json["summary"][0]["std"].is_null());
        let back = Profile::from_json(&json).unwrap();
        let mut shown: Vec<f64> = back.columns[0]
            .top
            .top(10)
            .iter()
            .map(|(v, _)| {
                assert!(v.len() <= 24, "{v}");
                classify(v).1.unwrap()
            })
            .collect();
        shown.sort_by(f64::total_cmp);
        assert_eq!(shown, vec![-1e308, 2.5e-300, 1e308, 1.5e308]);
        for x in [
            0.0,
            -0.0,
            7.0,
            0.1,
            1e-7,
            123456.789,
            1e16,
            -3.5e-310,
            f64::MAX,
        ] {
            assert_eq!(classify(&sketch::show_number(x)).1, Some(x + 0.0), "{x}");
        }
    }

    #[test]
    fn kinds_round_trip_and_unknown_kinds_are_refused() {
        let mut k = Kinds::default();
        k.add(Kind::Integer, 3);
        k.add(Kind::Null, 1);
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, r#"{"integer":3,"null":1}"#);
        assert_eq!(serde_json::from_str::<Kinds>(&json).unwrap(), k);
        let err = serde_json::from_str::<Kinds>(r#"{"date":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown value kind"), "{err}");
    }

    #[test]
    fn shards_merge_into_the_whole_and_round_trip_through_json() {
        let mut whole = profile(0..10_000);
        let mut a = profile(0..4_000);
        let b = profile(4_000..10_000);
        a.merge(&b).unwrap();
        let (w, m) = (whole.to_json(), a.to_json());
        for (cw, cm) in w["summary"]
            .as_array()
            .unwrap()
            .iter()
            .zip(m["summary"].as_array().unwrap())
        {
            for k in ["count", "nulls", "distinct", "min", "max", "type"] {
                assert_eq!(cw[k], cm[k], "{k} of {}", cw["name"]);
            }
            if let (Some(x), Some(y)) = (cw["mean"].as_f64(), cm["mean"].as_f64()) {
                assert!((x - y).abs() < 1e-9);
            }
        }
        let mut back = Profile::from_json(&m).unwrap();
        assert_eq!(back.to_json()["summary"], m["summary"]);
        let other = Profile {
            version: 99,
            ..Profile::default()
        };
        assert!(back.merge(&other).is_err());
    }
}
