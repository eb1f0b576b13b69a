//! Drops the rows a poisoning report names, keeping the file's format.

use crate::error::{invalid, Error};
use crate::{detect, Reading, Watch};
use rampart_profile::duplicates::FindingKind;
use rampart_table::{Cell, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// What a filter reads of a `rampart data poison --json` report.
#[derive(Debug, Deserialize)]
pub struct PoisonFile {
    pub sha256: String,
    #[serde(default)]
    pub truncated: bool,
    pub findings: Vec<PoisonFinding>,
}

#[derive(Debug, Deserialize)]
pub struct PoisonFinding {
    pub kind: FindingKind,
    pub drop: Vec<u64>,
}

impl PoisonFile {
    /// Parses a report; `name` names it in errors.
    pub fn parse(text: &str, name: &Path) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| {
            Error::invalid(format!(
                "{} is not a report of `rampart data poison --json`: {e}",
                name.display()
            ))
        })
    }
}

/// What a filter did.
#[derive(Debug, Serialize)]
pub struct Filtered {
    pub rows: u64,
    pub dropped: u64,
    pub kept: u64,
    pub dropped_by_kind: BTreeMap<FindingKind, u64>,
}

/// Keeps every record but those to drop.
struct DropRecords(HashSet<u64>);

impl Visitor for DropRecords {
    fn cell(&mut self, _: &Cell) -> Option<String> {
        None
    }
    fn keep_record(&self, record: u64) -> bool {
        !self.0.contains(&record)
    }
}

/// Writes `input` without the rows of `report`'s findings of `kinds`
/// (every kind when empty) to `output`, atomically. The report must be
/// of this very file (its SHA-256 is checked) and complete.
pub fn filter(
    input: &Path,
    output: &Path,
    report: &PoisonFile,
    report_name: &Path,
    kinds: &[FindingKind],
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<Filtered, Error> {
    if report.truncated {
        invalid!(
            "{} lists only some of its rows (more than {} repeats, or a group of more than {} near duplicates): filter in parts, or remove the duplicates another way first",
            report_name.display(),
            rampart_profile::duplicates::MAX_LISTED,
            rampart_profile::near::MAX_GROUP_ROWS
        );
    }
    let digest = rampart_sign::artifact_digest(input).map_err(|source| Error::Digest {
        path: input.to_path_buf(),
        source,
    })?;
    if digest != report.sha256 {
        invalid!(
            "{} was made for a file with SHA-256 {}, and {} has {digest}: run `rampart data poison {} --json` again",
            report_name.display(),
            report.sha256,
            input.display(),
            input.display()
        );
    }
    let mut dropped_by_kind = BTreeMap::new();
    let mut drop = HashSet::new();
    for f in report
        .findings
        .iter()
        .filter(|f| kinds.is_empty() || kinds.contains(&f.kind))
    {
        let added = f.drop.iter().filter(|r| drop.insert(**r)).count() as u64;
        *dropped_by_kind.entry(f.kind).or_default() += added;
    }
    let source = detect(input)?;
    let mut v = DropRecords(drop);
    let message = format!("filtering {}", source.path.display());
    let summary = crate::pii::rewrite(&source, reading, &mut v, output, &message, &[], watch)?;
    let dropped = (1..=summary.records).filter(|r| v.0.contains(r)).count() as u64;
    Ok(Filtered {
        rows: summary.records,
        dropped,
        kept: summary.records - dropped,
        dropped_by_kind,
    })
}
