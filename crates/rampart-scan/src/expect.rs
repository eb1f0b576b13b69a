//! Expected verdicts for a folder of samples (`expected.json`), so that a
//! corpus of benign and malicious files doubles as a regression test: the
//! bundled examples, or a team's own models and allowlists.

use rampart_core::{Report, Severity};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `expected.json`: file path (relative to the folder) to expectation.
#[derive(Debug, Deserialize)]
pub struct Expectations {
    pub files: BTreeMap<String, Expected>,
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    /// Highest severity above info, or `clean`.
    pub verdict: String,
    /// Rule ids that must be among the findings.
    #[serde(default)]
    pub rules: Vec<String>,
    /// What the sample demonstrates.
    #[serde(default)]
    pub technique: String,
}

/// One file whose findings differ from what was expected.
#[derive(Debug, PartialEq)]
pub struct Mismatch {
    pub file: String,
    pub expected: String,
    pub actual: String,
}

impl Expectations {
    pub fn load(path: &Path) -> Result<Self, crate::Error> {
        Self::read(path).map_err(crate::Error::Expectations)
    }

    fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))
    }

    /// Compares a report of a scan of `root` with the expectations. Every
    /// expected file must have been scanned, and every scanned file must
    /// be expected.
    /// How many samples got their verdict, and each mismatch, for people.
    pub fn summary(&self, root: &Path, report: &Report, mismatches: &[Mismatch]) -> String {
        let wrong = mismatches
            .iter()
            .filter(|m| self.files.contains_key(&m.file))
            .count();
        let mut out = format!(
            "\ndemo: scanned {} files in {}; {} of {} sample verdicts as expected (expected.json)\n\
             (The FAIL above is the scanner's verdict: the malicious samples fail the gate, as they should. \
             The demo passes when every sample gets the verdict it was built for.)\n",
            report.metrics.get("files").copied().unwrap_or(0),
            root.display(),
            self.files.len().saturating_sub(wrong),
            self.files.len()
        );
        for m in mismatches {
            out.push_str(&format!(
                "  MISMATCH {}: expected {}, got {}\n",
                m.file, m.expected, m.actual
            ));
        }
        out
    }

    pub fn check(&self, root: &Path, report: &Report) -> Vec<Mismatch> {
        let mut by_file: BTreeMap<String, (Option<Severity>, BTreeSet<String>)> = BTreeMap::new();
        for f in &report.findings {
            let rel = Path::new(&f.location.path)
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| f.location.path.clone());
            let e = by_file.entry(rel).or_default();
            if f.severity > Severity::Info {
                e.0 = e.0.max(Some(f.severity));
            }
            e.1.insert(f.rule.clone());
        }
        let mut out = Vec::new();
        for (file, exp) in &self.files {
            if !root.join(file).is_file() {
                out.push(Mismatch {
                    file: file.clone(),
                    expected: exp.verdict.clone(),
                    actual: "missing file".into(),
                });
                continue;
            }
            let (sev, rules) = by_file.remove(file).unwrap_or_default();
            let actual = sev.map_or("clean".to_string(), |s| s.to_string());
            let missing: Vec<&String> = exp.rules.iter().filter(|r| !rules.contains(*r)).collect();
            if actual != exp.verdict || !missing.is_empty() {
                let found: Vec<&String> = rules.iter().collect();
                out.push(Mismatch {
                    file: file.clone(),
                    expected: format!("{} {:?}", exp.verdict, exp.rules),
                    actual: format!("{actual} {found:?}"),
                });
            }
        }
        for (file, (sev, rules)) in by_file {
            if file != "expected.json" {
                out.push(Mismatch {
                    file,
                    expected: "no entry in expected.json".into(),
                    actual: format!(
                        "{} {rules:?}",
                        sev.map_or("clean".to_string(), |s| s.to_string())
                    ),
                });
            }
        }
        out
    }
}
