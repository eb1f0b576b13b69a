//! Class imbalance and under-represented groups: the share of rows of each
//! label, and of each value of the columns that name groups (sex, region,
//! age band...). A class or group below the minimum share is a finding;
//! there are no rows to drop, only data to collect.

use crate::duplicates::{Finding, Row};
use std::collections::BTreeMap;

/// Distinct values counted per column; further ones are counted together.
const MAX_VALUES: usize = 10_000;

/// The name under which values beyond [`MAX_VALUES`] are counted.
const OTHER: &str = "(other values)";

#[derive(Default)]
struct Counts {
    values: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, value: &str) {
        let key = if self.values.len() < MAX_VALUES || self.values.contains_key(value) {
            value
        } else {
            OTHER
        };
        match self.values.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                self.values.insert(key.to_string(), 1);
            }
        }
    }
}

/// Counts labels and group values, row by row.
pub struct Balance {
    label: Option<String>,
    groups: Vec<String>,
    labels: Counts,
    group_counts: Vec<Counts>,
    rows: u64,
}

impl Balance {
    pub fn new(label: Option<String>, groups: Vec<String>) -> Balance {
        let group_counts = groups.iter().map(|_| Counts::default()).collect();
        Balance {
            label,
            groups,
            labels: Counts::default(),
            group_counts,
            rows: 0,
        }
    }

    pub fn add(&mut self, row: &Row) {
        self.rows += 1;
        if let Some(l) = self.label.as_deref().and_then(|l| row.value(l)) {
            self.labels.add(l);
        }
        for (column, counts) in self.groups.iter().zip(&mut self.group_counts) {
            counts.add(row.value(column).unwrap_or(""));
        }
    }

    /// A `class-imbalance` finding when some label's share is under
    /// `min_share`, and an `under-represented` finding per group column
    /// with values under it.
    pub fn findings(&self, min_share: f64) -> Vec<Finding> {
        let mut out = Vec::new();
        let small = |c: &Counts| -> BTreeMap<String, u64> {
            c.values
                .iter()
                .filter(|(_, n)| (**n as f64) < min_share * self.rows as f64)
                .map(|(v, n)| (v.clone(), *n))
                .collect()
        };
        let few = small(&self.labels);
        if !few.is_empty() && self.labels.values.len() > 1 {
            out.push(Finding {
                kind: "class-imbalance",
                rows: Vec::new(),
                count: few.values().sum(),
                labels: few.keys().cloned().collect(),
                drop: Vec::new(),
                counts: self.labels.values.clone(),
                column: self.label.clone(),
            });
        }
        for (column, counts) in self.groups.iter().zip(&self.group_counts) {
            let few = small(counts);
            if !few.is_empty() {
                out.push(Finding {
                    kind: "under-represented",
                    rows: Vec::new(),
                    count: few.values().sum(),
                    labels: few.keys().cloned().collect(),
                    drop: Vec::new(),
                    counts: counts.values.clone(),
                    column: Some(column.clone()),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64, values: &[(&str, &str)]) -> Row {
        let mut r = Row::new(i, i + 1);
        for (c, v) in values {
            r.set(c, v);
        }
        r
    }

    #[test]
    fn rare_classes_and_groups_are_named_with_their_counts() {
        let mut b = Balance::new(Some("y".into()), vec!["sex".into(), "region".into()]);
        for i in 0..100 {
            let y = if i < 3 { "fraud" } else { "ok" };
            let sex = if i % 2 == 0 { "f" } else { "m" };
            let region = if i < 98 { "north" } else { "south" };
            b.add(&row(i, &[("y", y), ("sex", sex), ("region", region)]));
        }
        let f = b.findings(0.05);
        let summary: Vec<(&str, Option<String>, Vec<String>, u64)> = f
            .iter()
            .map(|f| (f.kind, f.column.clone(), f.labels.clone(), f.count))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("class-imbalance", Some("y".into()), vec!["fraud".into()], 3),
                (
                    "under-represented",
                    Some("region".into()),
                    vec!["south".into()],
                    2
                ),
            ]
        );
        assert_eq!(f[0].counts.get("ok"), Some(&97));
        assert!(b.findings(0.01).is_empty());
    }

    #[test]
    fn one_class_is_not_an_imbalance() {
        let mut b = Balance::new(Some("y".into()), vec![]);
        for i in 0..10 {
            b.add(&row(i, &[("y", "1")]));
        }
        assert!(b.findings(0.5).is_empty());
    }
}
