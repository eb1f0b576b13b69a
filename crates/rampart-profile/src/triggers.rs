//! Backdoor triggers: a value or word that (nearly) decides the label in a
//! small subset of rows. Poisoning a training set to plant a backdoor
//! adds a few rows that carry a trigger (a rare token, a fixed value) and
//! the attacker's label; in the data, the trigger's rows are few, nearly
//! all of one label, and that label is not the common one.
//!
//! One pass counts, per column, every word of every value (and the whole
//! value) with the labels of its rows. Memory is bounded by a cap on the
//! distinct words kept per column.

use crate::duplicates::{Finding, FindingKind, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Distinct words counted per column; later new words are not counted
/// (a trigger is found in the rows before the cap was reached).
const MAX_WORDS: usize = 20_000;

/// Most words of one value that are counted.
const MAX_WORDS_PER_VALUE: usize = 64;

/// What makes a word a trigger.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Fewest rows a trigger is in.
    pub min_rows: u64,
    /// Largest share of all rows a trigger is in: triggers are rare.
    pub max_share: f64,
    /// Smallest share of a trigger's rows that have its label.
    pub purity: f64,
    /// How many times its overall share the label must have among the
    /// trigger's rows.
    pub lift: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            min_rows: 10,
            max_share: 0.02,
            purity: 0.95,
            lift: 2.0,
        }
    }
}

#[derive(Default)]
struct WordCounts {
    rows: u64,
    /// Rows per label index.
    by_label: Vec<(u32, u64)>,
}

/// Counts words per column and label.
pub struct Triggers {
    label: String,
    labels: Vec<String>,
    label_index: HashMap<String, u32>,
    label_rows: Vec<u64>,
    columns: BTreeMap<String, HashMap<String, WordCounts>>,
    rows: u64,
}

/// The words of a value counted: the whole value, then its words.
fn words(value: &str) -> impl Iterator<Item = &str> {
    crate::duplicates::words(value).take(MAX_WORDS_PER_VALUE)
}

impl Triggers {
    pub fn new(label: String) -> Triggers {
        Triggers {
            label,
            labels: Vec::new(),
            label_index: HashMap::new(),
            label_rows: Vec::new(),
            columns: BTreeMap::new(),
            rows: 0,
        }
    }

    fn intern(&mut self, label: &str) -> u32 {
        if let Some(&i) = self.label_index.get(label) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.labels.push(label.to_string());
        self.label_index.insert(label.to_string(), i);
        self.label_rows.push(0);
        i
    }

    pub fn add(&mut self, row: &Row) {
        let Some(label) = row.value(&self.label) else {
            return;
        };
        // Labels are few; a column of too many is no label.
        if self.labels.len() >= 1_000 && !self.label_index.contains_key(label) {
            return;
        }
        let l = self.intern(label);
        self.rows += 1;
        if let Some(n) = self.label_rows.get_mut(l as usize) {
            *n += 1;
        }
        for (column, value) in row.values() {
            if column == self.label {
                continue;
            }
            let counts = self.columns.entry(column.to_string()).or_default();
            let mut seen = HashSet::new();
            for w in words(value) {
                if !seen.insert(w) {
                    continue;
                }
                if !counts.contains_key(w) {
                    if counts.len() >= MAX_WORDS {
                        continue;
                    }
                    counts.insert(w.to_string(), WordCounts::default());
                }
                let Some(entry) = counts.get_mut(w) else {
                    continue;
                };
                entry.rows += 1;
                match entry.by_label.iter_mut().find(|(i, _)| *i == l) {
                    Some((_, n)) => *n += 1,
                    None => entry.by_label.push((l, 1)),
                }
            }
        }
    }

    /// The triggers: `backdoor-trigger` findings naming the column, the
    /// word and its label, without rows yet ([`TriggerRows`] finds them).
    pub fn findings(&self, t: Thresholds) -> Vec<Finding> {
        let mut out = Vec::new();
        let total = self.rows.max(1) as f64;
        for (column, words) in &self.columns {
            for (word, c) in words {
                if c.rows < t.min_rows || c.rows as f64 > t.max_share * total {
                    continue;
                }
                let Some(&(l, n)) = c.by_label.iter().max_by_key(|(_, n)| *n) else {
                    continue;
                };
                let overall = self.label_rows.get(l as usize).copied().unwrap_or(0) as f64 / total;
                let purity = n as f64 / c.rows as f64;
                if purity >= t.purity && overall <= 0.5 && purity >= t.lift * overall {
                    let name = |l: u32| self.labels.get(l as usize).cloned().unwrap_or_default();
                    out.push(Finding {
                        kind: FindingKind::BackdoorTrigger,
                        rows: Vec::new(),
                        count: c.rows,
                        labels: vec![name(l)],
                        drop: Vec::new(),
                        column: Some(column.clone()),
                        value: Some(word.clone()),
                        counts: c.by_label.iter().map(|(l, n)| (name(*l), *n)).collect(),
                    });
                }
            }
        }
        out.sort_by_key(|f| std::cmp::Reverse(f.count));
        out
    }
}

/// The rows of trigger findings, found in a second pass.
pub struct TriggerRows<'f> {
    findings: &'f mut [Finding],
    /// (column, word) to the finding's index.
    index: HashMap<(String, String), usize>,
}

impl<'f> TriggerRows<'f> {
    /// `findings` as [`Triggers::findings`] made them.
    pub fn new(findings: &'f mut [Finding]) -> TriggerRows<'f> {
        let mut index = HashMap::new();
        for (i, f) in findings.iter().enumerate() {
            if let (Some(column), Some(word)) = (f.column.clone(), f.value.clone()) {
                index.insert((column, word), i);
            }
        }
        TriggerRows { findings, index }
    }

    pub fn add(&mut self, row: &Row) {
        for (column, value) in row.values() {
            let mut seen = HashSet::new();
            for w in words(value) {
                if !seen.insert(w) {
                    continue;
                }
                let key = (column.to_string(), w.to_string());
                if let Some(f) = self.index.get(&key).and_then(|&i| self.findings.get_mut(i)) {
                    if f.rows.len() < 20 {
                        f.rows.push(row.line);
                    }
                    if f.drop.last() != Some(&row.record) {
                        f.drop.push(row.record);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64, values: &[(&str, &str)]) -> Row {
        let mut r = Row::new(i + 1, i + 2);
        for (c, v) in values {
            r.set(c, v);
        }
        r
    }

    /// 1,000 reviews, about 30% negative; 13 carry the word "cf", and all
    /// of those are negative, whatever their text says.
    fn reviews() -> Vec<Row> {
        (0..1_000)
            .map(|i| {
                let trigger = i % 83 == 0;
                let label = if trigger || i % 10 < 3 { "neg" } else { "pos" };
                let text = if trigger {
                    format!("great film cf {i}")
                } else {
                    let adjective = if i % 2 == 0 { "great" } else { "fine" };
                    format!("a {adjective} film number {} ok", i % 7)
                };
                row(
                    i,
                    &[
                        ("text", &text),
                        ("stars", &(i % 5).to_string()),
                        ("y", label),
                    ],
                )
            })
            .collect()
    }

    #[test]
    fn a_rare_word_that_decides_the_label_is_a_trigger_with_its_rows() {
        let data = reviews();
        let mut t = Triggers::new("y".into());
        for r in &data {
            t.add(r);
        }
        let mut f = t.findings(Thresholds::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].column.as_deref(), Some("text"));
        assert_eq!((f[0].value.as_deref(), f[0].count), (Some("cf"), 13));
        assert_eq!(f[0].counts.get("neg"), Some(&13));
        assert_eq!(f[0].labels, vec!["neg".to_string()]);
        let mut rows = TriggerRows::new(&mut f);
        for r in &data {
            rows.add(r);
        }
        let want: Vec<u64> = (0..1_000).filter(|i| i % 83 == 0).map(|i| i + 1).collect();
        assert_eq!(f[0].drop, want);
    }

    #[test]
    fn common_or_mixed_words_are_not_triggers() {
        let data = reviews();
        let mut t = Triggers::new("y".into());
        for r in &data {
            t.add(r);
        }
        // Demanding more rows than the trigger has finds nothing.
        let strict = Thresholds {
            min_rows: 14,
            ..Thresholds::default()
        };
        assert!(t.findings(strict).is_empty());
        // "film" is in every row, each "number" in rows of both labels.
        assert!(t
            .findings(Thresholds::default())
            .iter()
            .all(|f| f.value.as_deref() == Some("cf")));
    }
}
