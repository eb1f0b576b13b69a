//! Class imbalance and under-represented groups: the share of rows of each
//! label, and of each value of the columns that name groups (sex, region,
//! age band...). A class or group below the minimum share is a finding;
//! there are no rows to drop, only data to collect.

use crate::duplicates::{Finding, FindingKind, Row};
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
                kind: FindingKind::ClassImbalance,
                rows: Vec::new(),
                count: few.values().sum(),
                labels: few.keys().cloned().collect(),
                drop: Vec::new(),
                counts: self.labels.values.clone(),
                column: self.label.clone(),
                value: None,
            });
        }
        for (column, counts) in self.groups.iter().zip(&self.group_counts) {
            let few = small(counts);
            if !few.is_empty() {
                out.push(Finding {
                    kind: FindingKind::UnderRepresented,
                    rows: Vec::new(),
                    count: few.values().sum(),
                    labels: few.keys().cloned().collect(),
                    drop: Vec::new(),
                    counts: counts.values.clone(),
                    column: Some(column.clone()),
                    value: None,
                });
            }
        }
        out
    }
}

impl Balance {
    /// Each label's share of the rows.
    fn shares(&self) -> BTreeMap<&str, f64> {
        let total = self.labels.values.values().sum::<u64>().max(1) as f64;
        self.labels
            .values
            .iter()
            .map(|(l, n)| (l.as_str(), *n as f64 / total))
            .collect()
    }

    /// A `label-shift` finding when the label distribution differs from
    /// the reference's by more than `max_distance` in total variation
    /// (half the sum of the absolute differences of the shares: the share
    /// of rows whose label would have to change).
    pub fn label_shift(&self, reference: &Balance, max_distance: f64) -> Option<Finding> {
        let (now, before) = (self.shares(), reference.shares());
        if now.is_empty() || before.is_empty() {
            return None;
        }
        let mut labels: Vec<&str> = now.keys().chain(before.keys()).copied().collect();
        labels.sort_unstable();
        labels.dedup();
        let share = |m: &BTreeMap<&str, f64>, l: &str| m.get(l).copied().unwrap_or(0.0);
        let distance = labels
            .iter()
            .map(|l| (share(&now, l) - share(&before, l)).abs())
            .sum::<f64>()
            / 2.0;
        if distance <= max_distance {
            return None;
        }
        let changes = labels
            .iter()
            .map(|l| (l, share(&before, l), share(&now, l)))
            .filter(|(_, b, n)| (n - b).abs() >= 0.005)
            .map(|(l, b, n)| format!("{l}: {:.1}% -> {:.1}%", b * 100.0, n * 100.0))
            .collect();
        Some(Finding {
            kind: FindingKind::LabelShift,
            rows: Vec::new(),
            count: self.rows,
            labels: changes,
            drop: Vec::new(),
            column: self.label.clone(),
            value: None,
            counts: self.labels.values.clone(),
        })
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
            .map(|f| (f.kind.name(), f.column.clone(), f.labels.clone(), f.count))
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
    fn label_shift_is_the_share_of_rows_whose_label_moved() {
        let data = |fraud: u64| {
            let mut b = Balance::new(Some("y".into()), vec![]);
            for i in 0..100 {
                b.add(&row(i, &[("y", if i < fraud { "fraud" } else { "ok" })]));
            }
            b
        };
        let reference = data(2);
        assert!(
            data(5).label_shift(&reference, 0.05).is_none(),
            "3 points moved"
        );
        let f = data(20)
            .label_shift(&reference, 0.05)
            .expect("18 points moved");
        assert_eq!(f.labels, vec!["fraud: 2.0% -> 20.0%", "ok: 98.0% -> 80.0%"]);
        assert_eq!(f.counts.get("fraud"), Some(&20));
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
