//! Fairness by group, with Fairlearn's definitions and names.
//!
//! Groups are the combinations of the sensitive features' values that
//! occur (intersectional when there are several features), as
//! Fairlearn's `MetricFrame` forms them. Rates follow Fairlearn's
//! `true_positive_rate` and friends (a rate with no rows to divide by is
//! 0, as `confusion_matrix(normalize="true")` makes it); `precision` and
//! `accuracy` follow scikit-learn's (`zero_division=0`). The aggregates
//! are `MetricFrame.difference()` (largest minus smallest) and `.ratio()`
//! (smallest over largest; undefined when the largest is 0) between
//! groups. Every group is in the aggregates, as in Fairlearn; groups
//! under the minimum count are listed as small and left out of the
//! four-fifths rule, whose verdict on a handful of rows would be noise.

use serde::{Deserialize, Serialize};

/// Fairlearn's aggregate metrics, by its function names. The `_mean`
/// names are its `agg="mean"` variants of the equalized odds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    DemographicParityDifference,
    DemographicParityRatio,
    EqualizedOddsDifference,
    EqualizedOddsDifferenceMean,
    EqualizedOddsRatio,
    EqualizedOddsRatioMean,
    EqualOpportunityDifference,
    EqualOpportunityRatio,
    /// AIF360's disparate impact: the selection rate of the rows outside
    /// the privileged group over that of the rows in it (without a
    /// privileged group: the lowest group's rate over the highest's).
    DisparateImpact,
}

pub const AGGREGATES: &[Aggregate] = &[
    Aggregate::DemographicParityDifference,
    Aggregate::DemographicParityRatio,
    Aggregate::EqualizedOddsDifference,
    Aggregate::EqualizedOddsDifferenceMean,
    Aggregate::EqualizedOddsRatio,
    Aggregate::EqualizedOddsRatioMean,
    Aggregate::EqualOpportunityDifference,
    Aggregate::EqualOpportunityRatio,
    Aggregate::DisparateImpact,
];

impl Aggregate {
    pub fn name(self) -> &'static str {
        match self {
            Aggregate::DemographicParityDifference => "demographic_parity_difference",
            Aggregate::DemographicParityRatio => "demographic_parity_ratio",
            Aggregate::EqualizedOddsDifference => "equalized_odds_difference",
            Aggregate::EqualizedOddsDifferenceMean => "equalized_odds_difference_mean",
            Aggregate::EqualizedOddsRatio => "equalized_odds_ratio",
            Aggregate::EqualizedOddsRatioMean => "equalized_odds_ratio_mean",
            Aggregate::EqualOpportunityDifference => "equal_opportunity_difference",
            Aggregate::EqualOpportunityRatio => "equal_opportunity_ratio",
            Aggregate::DisparateImpact => "disparate_impact",
        }
    }

    pub fn parse(name: &str) -> Option<Aggregate> {
        AGGREGATES.iter().copied().find(|a| a.name() == name)
    }

    /// Differences are better small; ratios better large (1 is parity).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Aggregate::DemographicParityDifference
                | Aggregate::EqualizedOddsDifference
                | Aggregate::EqualizedOddsDifferenceMean
                | Aggregate::EqualOpportunityDifference
        )
    }
}

/// The rows' groups: which group each row is in, and each group's
/// values of the sensitive features.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    pub features: Vec<String>,
    /// Per group, its value of each feature.
    pub values: Vec<Vec<String>>,
    /// Per row, its group.
    pub of_row: Vec<u32>,
}

impl Groups {
    /// Groups rows by their tuple of values (`rows[i][f]`: row i's value
    /// of feature f), numbered in order of first appearance.
    pub fn of(features: Vec<String>, rows: impl IntoIterator<Item = Vec<String>>) -> Groups {
        let mut ids: std::collections::HashMap<Vec<String>, u32> = Default::default();
        let mut values = Vec::new();
        let of_row = rows
            .into_iter()
            .map(|key| {
                *ids.entry(key).or_insert_with_key(|k| {
                    values.push(k.clone());
                    (values.len() - 1) as u32
                })
            })
            .collect();
        Groups {
            features,
            values,
            of_row,
        }
    }
}

/// One group's counts and rates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupReport {
    /// Feature name to value.
    pub group: std::collections::BTreeMap<String, String>,
    pub count: u64,
    pub selection_rate: f64,
    pub true_positive_rate: f64,
    pub false_positive_rate: f64,
    pub false_negative_rate: f64,
    pub precision: f64,
    pub accuracy: f64,
    /// Selection rate over the reference group's (the privileged group,
    /// or the highest): the four-fifths rule wants 0.8 or more.
    pub impact_ratio: Option<f64>,
    /// Fewer rows than the minimum: its rates are reported but not
    /// judged by the four-fifths rule.
    pub small: bool,
}

impl Report {
    /// A group's values in the order of the sensitive features, as
    /// people read them: `Female, Black`.
    pub fn values_of(&self, g: &GroupReport) -> String {
        self.sensitive_features
            .iter()
            .filter_map(|k| g.group.get(k))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The fairness of a binary classifier's decisions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub sensitive_features: Vec<String>,
    pub min_count: u64,
    /// The privileged group, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileged: Option<std::collections::BTreeMap<String, String>>,
    /// The favourable decision (a label value).
    #[serde(default)]
    pub positive: String,
    pub groups: Vec<GroupReport>,
    pub aggregates: Vec<(Aggregate, Option<f64>)>,
    pub four_fifths: FourFifths,
}

/// The four-fifths rule (EEOC, 29 CFR 1607.4(D)) over the groups with
/// at least the minimum count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FourFifths {
    pub passed: bool,
    /// The lowest impact ratio among judged groups.
    pub lowest_ratio: Option<f64>,
    /// Groups (as `feature=value` joined by `, `) under four fifths.
    pub failing: Vec<String>,
    /// Groups too small to judge.
    pub not_judged: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tp: u64,
    fp: u64,
    tn: u64,
    fn_: u64,
}

impl Counts {
    fn n(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    fn selection_rate(&self) -> f64 {
        rate(self.tp + self.fp, self.n())
    }
    fn tpr(&self) -> f64 {
        rate(self.tp, self.tp + self.fn_)
    }
    fn fpr(&self) -> f64 {
        rate(self.fp, self.fp + self.tn)
    }
}

/// A rate, 0 when there is nothing to divide by (Fairlearn's and
/// scikit-learn's zero division).
fn rate(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The label of a group: `sex=Female, race=Black`.
pub fn label(features: &[String], values: &[String]) -> String {
    features
        .iter()
        .zip(values)
        .map(|(f, v)| format!("{f}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fairness of `predicted` (true: the positive decision) against
/// `truth`, by `groups`. `privileged` is a group's index.
pub fn assess(
    truth: &[bool],
    predicted: &[bool],
    groups: &Groups,
    privileged: Option<u32>,
    min_count: u64,
) -> Report {
    let mut counts = vec![Counts::default(); groups.values.len()];
    for ((&t, &p), &g) in truth.iter().zip(predicted).zip(&groups.of_row) {
        if let Some(c) = counts.get_mut(g as usize) {
            match (t, p) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
                (true, false) => c.fn_ += 1,
            }
        }
    }
    let selection: Vec<f64> = counts.iter().map(Counts::selection_rate).collect();
    let reference = match privileged.and_then(|p| selection.get(p as usize)) {
        Some(&r) => Some(r),
        None => selection.iter().copied().reduce(f64::max),
    };
    let map = |values: &[String]| {
        groups
            .features
            .iter()
            .cloned()
            .zip(values.iter().cloned())
            .collect()
    };
    let reports: Vec<GroupReport> = counts
        .iter()
        .zip(&groups.values)
        .map(|(c, values)| {
            let sr = c.selection_rate();
            GroupReport {
                group: map(values),
                count: c.n(),
                selection_rate: sr,
                true_positive_rate: c.tpr(),
                false_positive_rate: c.fpr(),
                false_negative_rate: rate(c.fn_, c.tp + c.fn_),
                precision: rate(c.tp, c.tp + c.fp),
                accuracy: rate(c.tp + c.tn, c.n()),
                impact_ratio: reference.and_then(|r| (r > 0.0).then(|| sr / r)),
                small: c.n() < min_count,
            }
        })
        .collect();
    let tpr: Vec<f64> = counts.iter().map(Counts::tpr).collect();
    let fpr: Vec<f64> = counts.iter().map(Counts::fpr).collect();
    let di = disparate_impact(&counts, privileged, &selection);
    let rates = Rates {
        selection: &selection,
        tpr: &tpr,
        fpr: &fpr,
        disparate_impact: di,
    };
    // One group has no other to be compared with: every aggregate is
    // undefined (Fairlearn's would be a vacuous 0 or 1).
    let aggregates = AGGREGATES
        .iter()
        .map(|&a| (a, (counts.len() >= 2).then(|| rates.aggregate(a)).flatten()))
        .collect();
    let four_fifths = four_fifths(&reports, &groups.features);
    Report {
        sensitive_features: groups.features.clone(),
        min_count,
        privileged: privileged
            .and_then(|p| groups.values.get(p as usize))
            .map(|v| map(v)),
        groups: reports,
        aggregates,
        four_fifths,
        positive: String::new(),
    }
}

/// The per-group rates the aggregates are made of.
struct Rates<'a> {
    selection: &'a [f64],
    tpr: &'a [f64],
    fpr: &'a [f64],
    disparate_impact: Option<f64>,
}

impl Rates<'_> {
    fn aggregate(&self, a: Aggregate) -> Option<f64> {
        let (tpr, fpr) = (self.tpr, self.fpr);
        match a {
            Aggregate::DemographicParityDifference => difference(self.selection),
            Aggregate::DemographicParityRatio => ratio(self.selection),
            Aggregate::EqualizedOddsDifference => Some(difference(tpr)?.max(difference(fpr)?)),
            Aggregate::EqualizedOddsDifferenceMean => {
                Some((difference(tpr)? + difference(fpr)?) / 2.0)
            }
            Aggregate::EqualizedOddsRatio => Some(ratio(tpr)?.min(ratio(fpr)?)),
            // pandas' mean leaves out what is undefined.
            Aggregate::EqualizedOddsRatioMean => match (ratio(tpr), ratio(fpr)) {
                (Some(a), Some(b)) => Some((a + b) / 2.0),
                (a, b) => a.or(b),
            },
            Aggregate::EqualOpportunityDifference => difference(tpr),
            Aggregate::EqualOpportunityRatio => ratio(tpr),
            Aggregate::DisparateImpact => self.disparate_impact,
        }
    }
}

fn difference(v: &[f64]) -> Option<f64> {
    let max = v.iter().copied().reduce(f64::max)?;
    let min = v.iter().copied().reduce(f64::min)?;
    Some(max - min)
}

fn ratio(v: &[f64]) -> Option<f64> {
    let max = v.iter().copied().reduce(f64::max)?;
    let min = v.iter().copied().reduce(f64::min)?;
    (max > 0.0).then(|| min / max)
}

/// AIF360's `disparate_impact()`: P(ŷ=1 | unprivileged) / P(ŷ=1 |
/// privileged), the unprivileged being every row outside the privileged
/// group.
fn disparate_impact(counts: &[Counts], privileged: Option<u32>, selection: &[f64]) -> Option<f64> {
    let Some(p) = privileged else {
        return ratio(selection);
    };
    let inside = counts.get(p as usize)?;
    let mut outside = Counts::default();
    for (g, c) in counts.iter().enumerate() {
        if g != p as usize {
            outside.tp += c.tp;
            outside.fp += c.fp;
            outside.tn += c.tn;
            outside.fn_ += c.fn_;
        }
    }
    let priv_rate = inside.selection_rate();
    (priv_rate > 0.0 && outside.n() > 0).then(|| outside.selection_rate() / priv_rate)
}

fn four_fifths(reports: &[GroupReport], features: &[String]) -> FourFifths {
    let name = |g: &GroupReport| {
        let values: Vec<String> = features
            .iter()
            .map(|f| g.group.get(f).cloned().unwrap_or_default())
            .collect();
        label(features, &values)
    };
    let judged: Vec<&GroupReport> = reports.iter().filter(|g| !g.small).collect();
    let failing: Vec<String> = judged
        .iter()
        .filter(|g| g.impact_ratio.is_some_and(|r| r < 0.8))
        .map(|g| name(g))
        .collect();
    FourFifths {
        // Nothing judged (every group small, or one group) is no pass.
        passed: failing.is_empty() && judged.len() >= 2,
        lowest_ratio: judged
            .iter()
            .filter_map(|g| g.impact_ratio)
            .reduce(f64::min),
        failing,
        not_judged: reports.iter().filter(|g| g.small).map(name).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(r: &Report, a: Aggregate) -> Option<f64> {
        r.aggregates
            .iter()
            .find(|(k, _)| *k == a)
            .and_then(|(_, v)| *v)
    }

    /// Fairlearn 0.15 on the same arrays:
    /// y    = [1,1,0,0,1,0,1,0,1,1], pred = [1,0,0,1,1,0,1,1,0,1],
    /// sex  = [a,a,a,a,a,b,b,b,b,b].
    fn example() -> (Vec<bool>, Vec<bool>, Groups) {
        let y = [1, 1, 0, 0, 1, 0, 1, 0, 1, 1].map(|v| v == 1).to_vec();
        let p = [1, 0, 0, 1, 1, 0, 1, 1, 0, 1].map(|v| v == 1).to_vec();
        let sex = ["a", "a", "a", "a", "a", "b", "b", "b", "b", "b"];
        let g = Groups::of(vec!["sex".into()], sex.iter().map(|s| vec![s.to_string()]));
        (y, p, g)
    }

    #[test]
    fn aggregates_follow_fairlearns_definitions() {
        let (y, p, g) = example();
        let r = assess(&y, &p, &g, None, 0);
        // a: tp 2 fn 1 fp 1 tn 1 -> sr .6 tpr 2/3 fpr .5
        // b: tp 2 fn 1 fp 1 tn 1 ... b: y=[0,1,0,1,1] p=[0,1,1,0,1]:
        //    tp 2, fn 1, fp 1, tn 1 -> same rates: parity.
        assert_eq!(agg(&r, Aggregate::DemographicParityDifference), Some(0.0));
        assert_eq!(agg(&r, Aggregate::DemographicParityRatio), Some(1.0));
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[0].count, 5);
    }

    #[test]
    fn differences_and_ratios_between_groups() {
        // Group a selects 3 of 4 (tpr 1, fpr 0.5); b selects 1 of 4
        // (tpr 0.5, fpr 0).
        let y = [1, 1, 0, 0, 1, 1, 0, 0].map(|v| v == 1).to_vec();
        let p = [1, 1, 1, 0, 1, 0, 0, 0].map(|v| v == 1).to_vec();
        let g = Groups::of(
            vec!["g".into()],
            (0..8).map(|i| vec![if i < 4 { "a" } else { "b" }.to_string()]),
        );
        let r = assess(&y, &p, &g, None, 0);
        assert_eq!(agg(&r, Aggregate::DemographicParityDifference), Some(0.5));
        assert_eq!(
            agg(&r, Aggregate::DemographicParityRatio),
            Some(0.25 / 0.75)
        );
        assert_eq!(agg(&r, Aggregate::EqualizedOddsDifference), Some(0.5));
        assert_eq!(agg(&r, Aggregate::EqualizedOddsDifferenceMean), Some(0.5));
        // fpr ratio 0 / 0.5 = 0, tpr ratio 0.5.
        assert_eq!(agg(&r, Aggregate::EqualizedOddsRatio), Some(0.0));
        assert_eq!(agg(&r, Aggregate::EqualizedOddsRatioMean), Some(0.25));
        assert_eq!(agg(&r, Aggregate::EqualOpportunityDifference), Some(0.5));
        assert_eq!(agg(&r, Aggregate::EqualOpportunityRatio), Some(0.5));
        assert!(!r.four_fifths.passed);
        assert_eq!(r.four_fifths.failing, vec!["g=b".to_string()]);
        // With a privileged: rows outside it (b) over a.
        let r = assess(&y, &p, &g, Some(0), 0);
        assert_eq!(agg(&r, Aggregate::DisparateImpact), Some(0.25 / 0.75));
    }

    #[test]
    fn intersectional_groups_and_small_ones_are_reported() {
        let rows = [("F", "x"), ("F", "y"), ("M", "x"), ("M", "x"), ("F", "x")];
        let g = Groups::of(
            vec!["sex".into(), "race".into()],
            rows.iter().map(|(a, b)| vec![a.to_string(), b.to_string()]),
        );
        assert_eq!(g.values.len(), 3);
        let y = vec![true; 5];
        let p = vec![true, false, true, true, true];
        let r = assess(&y, &p, &g, None, 2);
        let small: Vec<_> = r.groups.iter().filter(|g| g.small).collect();
        assert_eq!(small.len(), 1);
        assert_eq!(r.four_fifths.not_judged, vec!["sex=F, race=y".to_string()]);
        // The small group is still in the aggregates, as in Fairlearn.
        assert_eq!(agg(&r, Aggregate::DemographicParityDifference), Some(1.0));
        // Two groups judged (F,x and M,x), both selected alike.
        assert!(r.four_fifths.passed);
        // With every group small, nothing is judged: no pass.
        let r = assess(&y, &p, &g, None, 100);
        assert!(!r.four_fifths.passed);
        // One group alone has nothing to be fair against.
        let one = Groups::of(vec!["g".into()], (0..4).map(|_| vec!["a".to_string()]));
        let r = assess(&[true; 4], &[true, false, true, true], &one, None, 0);
        assert_eq!(agg(&r, Aggregate::DemographicParityDifference), None);
    }

    #[test]
    fn a_ratio_over_zero_is_undefined() {
        let g = Groups::of(vec!["g".into()], [vec!["a".into()], vec!["b".into()]]);
        let r = assess(&[false, false], &[false, false], &g, None, 0);
        assert_eq!(agg(&r, Aggregate::DemographicParityRatio), None);
        assert_eq!(agg(&r, Aggregate::DemographicParityDifference), Some(0.0));
    }

    #[test]
    fn names_round_trip() {
        for &a in AGGREGATES {
            assert_eq!(Aggregate::parse(a.name()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.name())
            );
        }
    }
}
