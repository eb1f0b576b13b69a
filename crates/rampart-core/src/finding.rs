use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`: expected one of critical, high, medium, low, info"
            )),
        }
    }
}

/// Where a finding is: a file on disk, the chain of archive members inside
/// it (outermost first), and a byte offset inside the innermost stream.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            members: Vec::new(),
            offset: None,
        }
    }

    /// The same place, at byte `offset` of its innermost stream.
    pub fn at(&self, offset: u64) -> Location {
        Location {
            offset: Some(offset),
            ..self.clone()
        }
    }

    /// `model.zip!/archive/data.pkl` style name of the innermost stream.
    pub fn display_name(&self) -> String {
        let mut s = self.path.clone();
        for m in &self.members {
            s.push_str("!/");
            s.push_str(m);
        }
        s
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())?;
        if let Some(off) = self.offset {
            write!(f, " @{off}")?;
        }
        Ok(())
    }
}

/// One result of a check: a rule that matched at a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    /// What a human needs to judge the finding (the global imported, how it
    /// was used, the constant arguments...). Ordered for stable output.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, String>,
}

impl Finding {
    pub fn new(
        rule: impl Into<String>,
        severity: Severity,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            location,
            message: message.into(),
            evidence: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }
}

/// Counts of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }

    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// The result of one check run over one or more artifacts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Check id, e.g. `scan`.
    pub check: String,
    pub tool_version: String,
    /// Artifacts examined, as given (files and directories).
    pub inputs: Vec<String>,
    pub findings: Vec<Finding>,
    /// Named measurements (files scanned, bytes read...).
    #[serde(default)]
    pub metrics: BTreeMap<String, u64>,
    /// Findings removed by the policy, by rule id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suppressed: BTreeMap<String, usize>,
    /// Inputs that could not be examined at all (missing, unreadable),
    /// each naming the path. A report with errors is incomplete: the gate
    /// fails with exit code 2 whatever the findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What was examined: one entry per file and archive member, with its
    /// format. The base of an ML bill of materials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<Artifact>,
}

/// One examined file or archive member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub location: Location,
    /// Format identified from the content, e.g. `gguf v3`, `pickle`.
    pub format: String,
    /// Bytes, when known without decompressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Tensors declared, where a header says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensors: Option<u64>,
}

impl Report {
    pub fn new(check: &str) -> Self {
        Report {
            check: check.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            ..Report::default()
        }
    }

    pub fn counts(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in &self.findings {
            c.add(f.severity);
        }
        c
    }

    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// True when any finding is at or above `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.max_severity().is_some_and(|s| s >= fail_on)
    }

    /// Most severe first, then by location, then rule: stable across runs.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.location.path.cmp(&b.location.path))
                .then_with(|| a.location.members.cmp(&b.location.members))
                .then_with(|| a.location.offset.cmp(&b.location.offset))
                .then_with(|| a.rule.cmp(&b.rule))
        });
        self.inventory.sort_by(|a, b| {
            (&a.location.path, &a.location.members).cmp(&(&b.location.path, &b.location.members))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn fails_at_threshold() {
        let mut r = Report::new("t");
        r.findings.push(Finding::new(
            "X",
            Severity::Medium,
            Location::file("a"),
            "m",
        ));
        assert!(r.fails(Severity::Medium));
        assert!(r.fails(Severity::Low));
        assert!(!r.fails(Severity::High));
    }

    #[test]
    fn location_names_members() {
        let l = Location {
            path: "m.zip".into(),
            members: vec!["a/data.pkl".into()],
            offset: Some(7),
        };
        assert_eq!(l.to_string(), "m.zip!/a/data.pkl @7");
    }
}
