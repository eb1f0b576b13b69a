//! The input contract of a tabular model: each row of a request must meet
//! the per-value expectations of the data the model was trained on
//! (`rampart data suggest train.csv -o expect.toml`): numeric ranges,
//! integer columns and allowed values (categories). A row outside them is
//! refused (400, naming the row, the column and the bound) before the
//! model sees it. Expectations about a whole dataset (means, spreads,
//! distributions, uniqueness, null shares) do not apply to one request
//! and are not checked here.

use crate::oip::{Data, Invalid, Signature, Tensor};
use rampart_profile::expect::{ColumnExpectation, Expectations};
use std::collections::BTreeMap;
use std::path::Path;

/// What one column's values must be.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    column: String,
    min: Option<f64>,
    max: Option<f64>,
    integer: bool,
    /// Allowed values, as numbers.
    allowed: Option<Vec<f64>>,
}

/// Where the columns are in a request.
#[derive(Debug, Clone, PartialEq)]
enum Layout {
    /// Feature `j` of each row of a 2-D input is column `j`. `None`: the
    /// model's only input.
    Columns {
        input: Option<String>,
        rules: Vec<Rule>,
    },
    /// An input tensor per column, named as the column.
    Named(BTreeMap<String, Rule>),
}

/// A model's input contract, read from an expectations file.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    layout: Layout,
    /// The file, for messages.
    source: String,
}

impl Rule {
    fn new(e: &ColumnExpectation, source: &str) -> Result<Rule, String> {
        let integer = match e.kind.as_deref() {
            Some("string") => {
                return Err(format!(
                    "{source}: column {:?} holds strings, which a numeric input cannot carry; leave it out of `columns`",
                    e.column
                ))
            }
            Some("integer") | Some("bool") => true,
            _ => false,
        };
        let allowed = match &e.allowed {
            None => None,
            Some(values) => Some(
                values
                    .iter()
                    .map(|v| allowed_number(v).ok_or_else(|| {
                        format!(
                            "{source}: column {:?} allows {v:?}, which is not a number a numeric input can hold",
                            e.column
                        )
                    }))
                    .collect::<Result<Vec<f64>, String>>()?,
            ),
        };
        let range = e.range.clone().unwrap_or_default();
        Ok(Rule {
            column: e.column.clone(),
            min: range.min,
            max: range.max,
            integer,
            allowed,
        })
    }

    /// Why `x` breaks the rule, if it does.
    fn broken(&self, x: f64) -> Option<String> {
        if !x.is_finite() {
            return Some(format!("{x} is not a finite number"));
        }
        if let Some(m) = self.min.filter(|m| x < *m) {
            return Some(format!("{x} is below {m}, the smallest value allowed"));
        }
        if let Some(m) = self.max.filter(|m| x > *m) {
            return Some(format!("{x} is above {m}, the largest value allowed"));
        }
        if self.integer && x.fract() != 0.0 {
            return Some(format!("{x} is not a whole number"));
        }
        if let Some(a) = self.allowed.as_ref().filter(|a| !a.contains(&x)) {
            let shown: Vec<String> = a.iter().take(10).map(f64::to_string).collect();
            let more = if a.len() > 10 { ", ..." } else { "" };
            return Some(format!(
                "{x} is not an allowed value ({}{more})",
                shown.join(", ")
            ));
        }
        None
    }
}

/// An allowed value as a number: `3`, `2.5`, `true`, `false`.
fn allowed_number(v: &str) -> Option<f64> {
    match v.trim() {
        "true" | "True" => Some(1.0),
        "false" | "False" => Some(0.0),
        t => t.parse::<f64>().ok().filter(|x| x.is_finite()),
    }
}

/// The `i`-th element of `data` as a number.
fn element(data: &Data, i: usize) -> Option<f64> {
    match data {
        Data::Bool(v) => v.get(i).map(|b| f64::from(u8::from(*b))),
        Data::U8(v) => v.get(i).map(|x| f64::from(*x)),
        Data::I32(v) => v.get(i).map(|x| f64::from(*x)),
        // Exact below 2^53; beyond it, the nearest double, as pandas reads.
        #[allow(clippy::cast_precision_loss)]
        Data::I64(v) => v.get(i).map(|x| *x as f64),
        Data::F32(v) => v.get(i).map(|x| f64::from(*x)),
        Data::F64(v) => v.get(i).copied(),
    }
}

fn len(data: &Data) -> usize {
    match data {
        Data::Bool(v) => v.len(),
        Data::U8(v) => v.len(),
        Data::I32(v) => v.len(),
        Data::I64(v) => v.len(),
        Data::F32(v) => v.len(),
        Data::F64(v) => v.len(),
    }
}

impl Contract {
    /// Reads the expectations at `path`. With `columns`, feature `j` of
    /// `input` (the model's only input when `None`) is column `j`, and
    /// every column must have an expectation; without, inputs are matched
    /// to columns by name.
    pub fn read(
        path: &Path,
        columns: Option<&[String]>,
        input: Option<&str>,
    ) -> Result<Contract, String> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the expectations {source}: {e}"))?;
        let ex = Expectations::parse(&text).map_err(|e| format!("{source}: {e}"))?;
        let by_column: BTreeMap<&str, &ColumnExpectation> =
            ex.expect.iter().map(|e| (e.column.as_str(), e)).collect();
        let layout = match columns {
            Some(cols) => {
                if cols.is_empty() {
                    return Err("columns: name the column of each feature, in order".into());
                }
                let rules = cols
                    .iter()
                    .map(|c| match by_column.get(c.as_str()) {
                        Some(e) => Rule::new(e, &source),
                        None => Err(format!(
                            "columns: {c:?} has no expectation in {source} (its columns: {})",
                            by_column.keys().copied().collect::<Vec<_>>().join(", ")
                        )),
                    })
                    .collect::<Result<Vec<Rule>, String>>()?;
                Layout::Columns {
                    input: input.map(str::to_string),
                    rules,
                }
            }
            None => {
                if input.is_some() {
                    return Err("input needs columns: the column of each of its features".into());
                }
                let mut rules = BTreeMap::new();
                for e in &ex.expect {
                    // Only numeric columns can match a numeric input.
                    if e.kind.as_deref() != Some("string") {
                        rules.insert(e.column.clone(), Rule::new(e, &source)?);
                    }
                }
                Layout::Named(rules)
            }
        };
        Ok(Contract { layout, source })
    }

    /// Why the contract cannot describe a model with `sig`, if it cannot:
    /// a model it does not fit is not served.
    pub fn misfit(&self, sig: &Signature) -> Option<String> {
        match &self.layout {
            Layout::Columns { input, rules } => {
                let spec = match input {
                    Some(name) => sig.inputs.iter().find(|t| &t.name == name),
                    None if sig.inputs.len() == 1 => sig.inputs.first(),
                    None => {
                        return Some(format!(
                            "the model has {} inputs: say which one the columns of {} describe with input = \"NAME\"",
                            sig.inputs.len(),
                            self.source
                        ))
                    }
                };
                let Some(spec) = spec else {
                    return Some(format!(
                        "the model has no input {:?}",
                        input.as_deref().unwrap_or("")
                    ));
                };
                match spec.shape.as_slice() {
                    [_, Some(f)] if *f != rules.len() => Some(format!(
                        "input {:?} has {f} features, but columns names {}",
                        spec.name,
                        rules.len()
                    )),
                    [_, _] => None,
                    _ => Some(format!(
                        "input {:?} is not a table (rows x features): match inputs to columns by name instead",
                        spec.name
                    )),
                }
            }
            Layout::Named(rules) => {
                let matched = sig.inputs.iter().any(|t| rules.contains_key(&t.name));
                (!matched).then(|| {
                    format!(
                        "no input of the model is named as a column of {}: give columns = [...] for a table input",
                        self.source
                    )
                })
            }
        }
    }

    /// Checks every value the contract covers; the first one outside it
    /// is named.
    pub fn check(&self, inputs: &[Tensor]) -> Result<(), Invalid> {
        match &self.layout {
            Layout::Columns { input, rules } => {
                let t = match input {
                    Some(name) => inputs.iter().find(|t| &t.name == name),
                    None => inputs.first(),
                };
                let Some(t) = t else {
                    return Err(Invalid(
                        "the input the contract describes is missing".into(),
                    ));
                };
                let width = rules.len();
                if t.shape.len() != 2 || t.shape.get(1) != Some(&width) {
                    return Err(Invalid(format!(
                        "inputs {:?}: shape {:?} is not rows x {width} features",
                        t.name, t.shape
                    )));
                }
                for i in 0..len(&t.data) {
                    let (row, col) = (i / width, i % width);
                    // Both exist (i < len, col < width); were they not,
                    // the row would be refused, not passed unchecked.
                    let (Some(x), Some(rule)) = (element(&t.data, i), rules.get(col)) else {
                        return Err(Invalid(format!(
                            "inputs {:?} row {row}: element {i} cannot be read",
                            t.name
                        )));
                    };
                    if let Some(why) = rule.broken(x) {
                        return Err(Invalid(format!(
                            "inputs {:?} row {row}, column {:?}: {why}",
                            t.name, rule.column
                        )));
                    }
                }
                Ok(())
            }
            Layout::Named(rules) => {
                for t in inputs {
                    let Some(rule) = rules.get(&t.name) else {
                        continue;
                    };
                    for i in 0..len(&t.data) {
                        if let Some(why) = element(&t.data, i).and_then(|x| rule.broken(x)) {
                            return Err(Invalid(format!("inputs {:?} element {i}: {why}", t.name)));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oip::{DType, TensorSpec};

    const EXPECT: &str = r#"
[[expect]]
column = "age"
type = "integer"
range = { min = 17.0, max = 90.0 }

[[expect]]
column = "hours"
type = "float"
range = { min = 1.0, max = 99.0 }

[[expect]]
column = "sex"
type = "integer"
allowed = ["0", "1"]

[[expect]]
column = "city"
type = "string"
"#;

    fn contract(columns: Option<&[&str]>, input: Option<&str>) -> Result<Contract, String> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("expect.toml");
        std::fs::write(&p, EXPECT).unwrap();
        let cols: Option<Vec<String>> = columns.map(|c| c.iter().map(|s| s.to_string()).collect());
        Contract::read(&p, cols.as_deref(), input)
    }

    fn table(rows: &[[f32; 3]]) -> Vec<Tensor> {
        vec![Tensor {
            name: "X".into(),
            shape: vec![rows.len(), 3],
            data: Data::F32(rows.iter().flatten().copied().collect()),
        }]
    }

    fn sig(inputs: &[(&str, Vec<Option<usize>>)]) -> Signature {
        Signature {
            inputs: inputs
                .iter()
                .map(|(n, s)| TensorSpec {
                    name: n.to_string(),
                    dtype: DType::F32,
                    shape: s.clone(),
                })
                .collect(),
            outputs: vec![],
        }
    }

    #[test]
    fn each_row_meets_ranges_whole_numbers_and_categories() {
        let c = contract(Some(&["age", "hours", "sex"]), None).unwrap();
        assert!(c
            .check(&table(&[[17.0, 40.0, 0.0], [90.0, 1.0, 1.0]]))
            .is_ok());
        for (row, want) in [
            ([16.0, 40.0, 0.0], "column \"age\": 16 is below 17"),
            ([30.0, 120.0, 0.0], "column \"hours\": 120 is above 99"),
            ([30.5, 40.0, 0.0], "30.5 is not a whole number"),
            ([30.0, 40.0, 2.0], "2 is not an allowed value (0, 1)"),
        ] {
            let e = c.check(&table(&[[20.0, 40.0, 1.0], row])).unwrap_err().0;
            assert!(e.contains("row 1") && e.contains(want), "{want}: {e}");
        }
        let e = c.check(&table(&[])).map(|_| ()).err();
        assert!(e.is_none(), "no rows, nothing to refuse");
    }

    #[test]
    fn a_contract_that_does_not_fit_the_model_is_named() {
        let c = contract(Some(&["age", "hours", "sex"]), None).unwrap();
        assert!(c.misfit(&sig(&[("X", vec![None, Some(3)])])).is_none());
        assert!(c.misfit(&sig(&[("X", vec![None, None])])).is_none());
        let m = c.misfit(&sig(&[("X", vec![None, Some(4)])])).unwrap();
        assert!(m.contains("4 features"), "{m}");
        let m = c
            .misfit(&sig(&[("a", vec![None]), ("b", vec![None])]))
            .unwrap();
        assert!(m.contains("input = "), "{m}");
        let m = c.misfit(&sig(&[("X", vec![None])])).unwrap();
        assert!(m.contains("not a table"), "{m}");
        let e = contract(Some(&["age", "city"]), None).unwrap_err();
        assert!(e.contains("holds strings"), "{e}");
        let e = contract(Some(&["age", "height"]), None).unwrap_err();
        assert!(e.contains("\"height\" has no expectation"), "{e}");
    }

    proptest::proptest! {
        /// A request passes exactly when every value of every row is
        /// within its column's range, whole where it must be, and
        /// allowed.
        #[test]
        fn a_request_passes_exactly_when_every_row_does(
            rows in proptest::collection::vec(
                (0u8..120, proptest::num::f32::ANY, 0u8..4, proptest::bool::ANY), 0..20)
        ) {
            let c = contract(Some(&["age", "hours", "sex"]), None).unwrap();
            let values: Vec<[f32; 3]> = rows
                .iter()
                .map(|(age, hours, sex, half)| {
                    [f32::from(*age) + if *half { 0.5 } else { 0.0 }, *hours, f32::from(*sex)]
                })
                .collect();
            let fine = |r: &[f32; 3]| {
                (17.0..=90.0).contains(&r[0]) && r[0].fract() == 0.0
                    && (1.0..=99.0).contains(&r[1])
                    && (r[2] == 0.0 || r[2] == 1.0)
            };
            let all_fine = values.iter().all(fine);
            proptest::prop_assert_eq!(c.check(&table(&values)).is_ok(), all_fine);
        }
    }

    #[test]
    fn inputs_named_as_columns_are_checked_by_name() {
        let c = contract(None, None).unwrap();
        assert!(c.misfit(&sig(&[("age", vec![None, Some(1)])])).is_none());
        assert!(c.misfit(&sig(&[("X", vec![None, Some(3)])])).is_some());
        let t = |name: &str, v: Vec<i64>| Tensor {
            name: name.into(),
            shape: vec![v.len(), 1],
            data: Data::I64(v),
        };
        assert!(c
            .check(&[t("age", vec![18, 40]), t("other", vec![-5])])
            .is_ok());
        let e = c.check(&[t("age", vec![18, 400])]).unwrap_err().0;
        assert!(e.contains("\"age\" element 1: 400 is above 90"), "{e}");
    }
}
