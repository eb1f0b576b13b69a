//! Exact duplicates, duplicates with conflicting labels, and leakage
//! between two datasets, by hashing normalised rows: values trimmed and
//! lowercased, joined in column-name order, the label left out. Memory is
//! one 64-bit hash and a row number per distinct row, and the row numbers
//! of the repeats (at most [`MAX_LISTED`] in all).
//!
//! Every finding lists the records a filter should drop (`rampart data
//! filter --drop-findings`): the repeats of a duplicate (its first row is
//! kept), every row of a group whose labels conflict, every leaked row.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Line numbers shown per finding.
const MAX_ROWS: usize = 20;

/// Record numbers kept for all findings together: beyond this the
/// findings are marked truncated, and a filter refuses them.
pub const MAX_LISTED: usize = 10_000_000;

/// A row being assembled value by value.
#[derive(Default)]
pub struct Row {
    pub record: u64,
    pub line: u64,
    values: BTreeMap<String, String>,
}

impl Row {
    /// An empty row for the record starting at `line`.
    pub fn new(record: u64, line: u64) -> Row {
        Row {
            record,
            line,
            values: BTreeMap::new(),
        }
    }

    /// Every (column, value) of the row, values as set.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(c, v)| (c.as_str(), v.as_str()))
    }

    /// A value as set (trimmed, lowercase).
    pub fn value(&self, column: &str) -> Option<&str> {
        self.values.get(column).map(String::as_str)
    }

    pub fn set(&mut self, column: &str, value: &str) {
        self.values
            .insert(column.to_string(), value.trim().to_lowercase());
    }

    /// The hash of the features (every column but `label`) and the label.
    fn key(&self, label: Option<&str>) -> (u64, Option<String>) {
        let features: Vec<&str> = self
            .values
            .iter()
            .filter(|(c, _)| Some(c.as_str()) != label)
            .flat_map(|(c, v)| [c.as_str(), v.as_str()])
            .collect();
        let hash = xxhash_rust::xxh3::xxh3_64(features.join("\u{1f}").as_bytes());
        (hash, label.and_then(|l| self.values.get(l).cloned()))
    }
}

/// The whole value (trimmed), then its alphanumeric runs other than the
/// whole: what the trigger and near-duplicate checks read of a value.
pub(crate) fn words(value: &str) -> impl Iterator<Item = &str> {
    let whole = value.trim();
    let parts = whole
        .split(|c: char| !c.is_alphanumeric())
        .filter(move |w| !w.is_empty() && *w != whole);
    std::iter::once(whole)
        .filter(|w| !w.is_empty())
        .chain(parts)
}

/// What a poisoning finding is. Its name (`duplicate`,
/// `conflicting-labels`...) is what reports write and `rampart data
/// filter --kinds` reads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Duplicate,
    ConflictingLabels,
    Leak,
    NearDuplicate,
    NearLeak,
    ClassImbalance,
    UnderRepresented,
    LabelShift,
    BackdoorTrigger,
    Outlier,
    LabelIssue,
}

impl FindingKind {
    pub const ALL: [FindingKind; 11] = [
        FindingKind::Duplicate,
        FindingKind::ConflictingLabels,
        FindingKind::Leak,
        FindingKind::NearDuplicate,
        FindingKind::NearLeak,
        FindingKind::ClassImbalance,
        FindingKind::UnderRepresented,
        FindingKind::LabelShift,
        FindingKind::BackdoorTrigger,
        FindingKind::Outlier,
        FindingKind::LabelIssue,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Duplicate => "duplicate",
            FindingKind::ConflictingLabels => "conflicting-labels",
            FindingKind::Leak => "leak",
            FindingKind::NearDuplicate => "near-duplicate",
            FindingKind::NearLeak => "near-leak",
            FindingKind::ClassImbalance => "class-imbalance",
            FindingKind::UnderRepresented => "under-represented",
            FindingKind::LabelShift => "label-shift",
            FindingKind::BackdoorTrigger => "backdoor-trigger",
            FindingKind::Outlier => "outlier",
            FindingKind::LabelIssue => "label-issue",
        }
    }

    /// Whether the finding names rows a filter drops (imbalance and label
    /// shift describe the whole dataset, not rows).
    pub fn droppable(self) -> bool {
        !matches!(
            self,
            FindingKind::ClassImbalance | FindingKind::UnderRepresented | FindingKind::LabelShift
        )
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for FindingKind {
    type Err = String;

    /// Exactly the names of [`FindingKind::name`]; the error lists those
    /// a filter can drop.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FindingKind::ALL
                    .iter()
                    .filter(|k| k.droppable())
                    .map(|k| k.name())
                    .collect();
                format!("unknown kind of finding {s:?}: use {}", names.join(", "))
            })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    /// Line numbers of the rows (the first [`MAX_ROWS`]), for people.
    pub rows: Vec<u64>,
    /// How many rows the finding covers.
    pub count: u64,
    /// For conflicting labels: the labels seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Record numbers (from 1, in file order) a filter drops.
    pub drop: Vec<u64>,
    /// For imbalance and triggers: the column, the value (a trigger's
    /// word), and the rows of each value (or each label of the trigger's
    /// rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, u64>,
}

/// What the exact check knows of a row just added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// An earlier row has the same features.
    pub repeat: bool,
    /// The reference holds a row with the same features.
    pub leak: bool,
}

/// A distinct row: where it first occurs, its label, and (only once it
/// repeats) its repeats and other labels. 32 bytes a row: a dataset of
/// distinct rows, the usual case, costs little more than its hashes.
struct Group {
    first: (u64, u64),
    count: u32,
    /// The first row's label, as an index into [`Duplicates::labels`].
    label: u32,
    more: Option<Box<Repeats>>,
}

#[derive(Default)]
struct Repeats {
    /// (record, line) of each repeat.
    rows: Vec<(u64, u64)>,
    /// Labels other than the first one's.
    labels: Vec<u32>,
}

/// No label (no label column, or the row has none).
const NO_LABEL: u32 = u32::MAX;

/// Distinct labels kept; further ones share the last index.
const MAX_LABELS: usize = 1 << 16;

impl Group {
    fn repeats(&self) -> &[(u64, u64)] {
        self.more.as_ref().map_or(&[], |m| &m.rows)
    }

    fn lines(&self) -> Vec<u64> {
        std::iter::once(self.first.1)
            .chain(self.repeats().iter().map(|m| m.1))
            .take(MAX_ROWS)
            .collect()
    }

    fn records(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.first.0).chain(self.repeats().iter().map(|m| m.0))
    }

    /// Every label seen, first one first.
    fn labels(&self) -> Vec<u32> {
        let others = self.more.as_ref().map_or(&[][..], |m| &m.labels);
        std::iter::once(self.label)
            .chain(others.iter().copied())
            .filter(|l| *l != NO_LABEL)
            .collect()
    }
}

/// Groups rows by their features.
pub struct Duplicates {
    label: Option<String>,
    groups: HashMap<u64, Group>,
    reference: Option<std::collections::HashSet<u64>>,
    /// Label values, interned.
    labels: Vec<String>,
    label_index: HashMap<String, u32>,
    /// Repeats listed so far, against [`MAX_LISTED`].
    listed: usize,
    /// Whether some repeats went unlisted.
    pub truncated: bool,
}

impl Duplicates {
    pub fn new(label: Option<String>) -> Duplicates {
        Duplicates {
            label,
            groups: HashMap::new(),
            reference: None,
            labels: Vec::new(),
            label_index: HashMap::new(),
            listed: 0,
            truncated: false,
        }
    }

    /// Adds a row of the reference (training) dataset, for leakage.
    pub fn add_reference(&mut self, row: &Row) {
        let (hash, _) = row.key(self.label.as_deref());
        self.reference
            .get_or_insert_with(Default::default)
            .insert(hash);
    }

    fn intern(&mut self, label: Option<String>) -> u32 {
        let Some(label) = label else {
            return NO_LABEL;
        };
        if let Some(&i) = self.label_index.get(&label) {
            return i;
        }
        let i = self.labels.len().min(MAX_LABELS - 1) as u32;
        if self.labels.len() < MAX_LABELS {
            self.labels.push(label.clone());
            self.label_index.insert(label, i);
        }
        i
    }

    /// Adds a row, and says whether it repeats an earlier one and whether
    /// the reference holds it.
    pub fn add(&mut self, row: &Row) -> Seen {
        let (hash, label) = row.key(self.label.as_deref());
        let leak = self.reference.as_ref().is_some_and(|r| r.contains(&hash));
        let label = self.intern(label);
        let g = self.groups.entry(hash).or_insert(Group {
            first: (row.record, row.line),
            count: 0,
            label,
            more: None,
        });
        g.count = g.count.saturating_add(1);
        if g.count == 1 {
            return Seen {
                repeat: false,
                leak,
            };
        }
        let more = g.more.get_or_insert_with(Default::default);
        if self.listed < MAX_LISTED {
            more.rows.push((row.record, row.line));
            self.listed += 1;
        } else {
            self.truncated = true;
        }
        if label != g.label && more.labels.len() < 16 && !more.labels.contains(&label) {
            more.labels.push(label);
        }
        Seen { repeat: true, leak }
    }

    /// The findings, largest groups first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (hash, g) in &self.groups {
            let labels = g.labels();
            let conflicting = labels.len() > 1;
            if g.count > 1 {
                out.push(Finding {
                    kind: if conflicting {
                        FindingKind::ConflictingLabels
                    } else {
                        FindingKind::Duplicate
                    },
                    rows: g.lines(),
                    count: u64::from(g.count),
                    labels: if conflicting {
                        labels
                            .iter()
                            .filter_map(|l| self.labels.get(*l as usize).cloned())
                            .collect()
                    } else {
                        Vec::new()
                    },
                    // Which label of a conflict is right is unknown: all go.
                    drop: g.records().skip(usize::from(!conflicting)).collect(),
                    column: None,
                    value: None,
                    counts: BTreeMap::new(),
                });
            }
            if self.reference.as_ref().is_some_and(|r| r.contains(hash)) {
                out.push(Finding {
                    kind: FindingKind::Leak,
                    rows: g.lines(),
                    count: u64::from(g.count),
                    labels: Vec::new(),
                    drop: g.records().collect(),
                    column: None,
                    value: None,
                    counts: BTreeMap::new(),
                });
            }
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.rows.cmp(&b.rows)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, values: &[(&str, &str)]) -> Row {
        let mut r = Row::new(line, line);
        for (c, v) in values {
            r.set(c, v);
        }
        r
    }

    #[test]
    fn duplicates_conflicts_and_leaks() {
        let mut d = Duplicates::new(Some("y".into()));
        d.add_reference(&row(2, &[("a", "9"), ("b", "z"), ("y", "1")]));
        d.add(&row(2, &[("a", "1"), ("b", "x"), ("y", "0")]));
        d.add(&row(3, &[("a", "1 "), ("b", "X"), ("y", "0")]));
        d.add(&row(4, &[("a", "2"), ("b", "x"), ("y", "0")]));
        d.add(&row(5, &[("a", "2"), ("b", "x"), ("y", "1")]));
        d.add(&row(6, &[("a", "9"), ("b", "Z"), ("y", "0")]));
        d.add(&row(7, &[("a", "3"), ("b", "x"), ("y", "0")]));
        let f = d.findings();
        let kinds: Vec<(&str, Vec<u64>)> =
            f.iter().map(|x| (x.kind.name(), x.rows.clone())).collect();
        let drops: Vec<(&str, Vec<u64>)> =
            f.iter().map(|x| (x.kind.name(), x.drop.clone())).collect();
        assert!(
            drops.contains(&("duplicate", vec![3])),
            "the first copy stays: {drops:?}"
        );
        assert!(
            drops.contains(&("conflicting-labels", vec![4, 5])),
            "{drops:?}"
        );
        assert!(drops.contains(&("leak", vec![6])), "{drops:?}");
        assert!(kinds.contains(&("duplicate", vec![2, 3])), "{kinds:?}");
        assert!(
            kinds.contains(&("conflicting-labels", vec![4, 5])),
            "{kinds:?}"
        );
        assert!(kinds.contains(&("leak", vec![6])), "{kinds:?}");
        assert_eq!(f.len(), 3, "{kinds:?}");
    }

    #[test]
    fn kinds_read_back_by_name_and_json() {
        for k in FindingKind::ALL {
            assert_eq!(k.name().parse::<FindingKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        let e = "dupe".parse::<FindingKind>().unwrap_err();
        assert!(
            e.contains("duplicate, conflicting-labels") && !e.contains("label-shift"),
            "{e}"
        );
    }
}
