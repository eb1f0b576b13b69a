//! Personal data in datasets: found value by value with the columns that
//! hold it classified ([`scan`]), and rewritten masked or unmasked
//! ([`mask`]), in the input's own format.

use crate::error::{invalid, Error};
use crate::{detect, require_columns, Reading, Watch};
use rampart_pii::columns::{scan_cell, Columns, PiiColumn};
use rampart_pii::transform::{apply, Action, Keys, Policy};
use rampart_table::{Cell, Visitor};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shared_str<S: serde::Serializer>(v: &std::sync::Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// One match of personal data.
#[derive(Debug, Serialize)]
pub struct Hit {
    /// Shared by every match of a file.
    #[serde(serialize_with = "shared_str")]
    pub file: std::sync::Arc<str>,
    pub line: u64,
    pub record: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub column: String,
    /// Byte offset of the match in the value (1-based) and just past it.
    pub start: usize,
    pub end: usize,
    pub entity: &'static str,
    pub score: f32,
    /// The value with all but its last four characters masked.
    pub masked: String,
}

/// What one file held.
#[derive(Debug, Serialize)]
pub struct FileSummary {
    pub file: String,
    pub format: &'static str,
    pub records: u64,
    pub skipped: u64,
    pub problems: Vec<String>,
    pub pii_columns: Vec<PiiColumn>,
}

/// A scan of datasets: matches listed (up to the limit), counted by
/// entity, and each file summarised.
#[derive(Debug, Serialize)]
pub struct Scan {
    pub files: Vec<FileSummary>,
    pub counts: BTreeMap<&'static str, u64>,
    pub matches: Vec<Hit>,
    #[serde(skip)]
    pub threshold: f32,
}

impl Scan {
    /// The matches, the columns holding personal data, and the counts,
    /// for people.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for h in &self.matches {
            let column = if h.column.is_empty() {
                String::new()
            } else {
                format!(" [{}]", h.column)
            };
            let _ = writeln!(
                out,
                "{}:{}:{}{column}  {:<16} {:.2}  {}",
                h.file, h.line, h.start, h.entity, h.score, h.masked
            );
        }
        for f in self.files.iter().filter(|f| !f.pii_columns.is_empty()) {
            let _ = writeln!(
                out,
                "\n{} ({}, {} records): columns with personal data",
                f.file, f.format, f.records
            );
            for c in &f.pii_columns {
                let _ = writeln!(
                    out,
                    "  {:<24} {:<16} {:>5.1}% of {} values{}  e.g. {}",
                    c.column,
                    c.entity,
                    c.share * 100.0,
                    c.values,
                    if c.name_hint { ", named so" } else { "" },
                    c.examples.join(", ")
                );
            }
        }
        let summary: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            out,
            "{} matches{}{}",
            self.total(),
            if summary.is_empty() {
                String::new()
            } else {
                format!(": {}", summary.join(", "))
            },
            crate::skipped_note(self.files.iter().map(|f| f.skipped).sum())
        );
        out
    }

    /// Records skipped, each by line, and how many in all when more were
    /// skipped than listed.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for f in &self.files {
            w.extend(f.problems.iter().map(|p| format!("{p} (skipped)")));
            if f.skipped as usize > f.problems.len() {
                w.push(format!("{}: {} records skipped in all", f.file, f.skipped));
            }
        }
        w
    }

    /// Every match counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn passed(&self) -> bool {
        self.counts.is_empty()
    }

    /// The attestation's details: counts and columns, never values.
    pub fn details(&self) -> serde_json::Value {
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|f| {
                let columns: Vec<serde_json::Value> = f
                    .pii_columns
                    .iter()
                    .map(|c| serde_json::json!({"column": c.column, "entity": c.entity, "share": c.share}))
                    .collect();
                serde_json::json!({"file": f.file, "format": f.format, "records": f.records, "skipped": f.skipped, "pii_columns": columns})
            })
            .collect();
        serde_json::json!({
            "passed": self.passed(),
            "counts": self.counts,
            "threshold": self.threshold,
            "files": files,
        })
    }
}

struct ScanVisitor<'a> {
    file: std::sync::Arc<str>,
    threshold: f32,
    max: usize,
    hits: &'a mut Vec<Hit>,
    counts: &'a mut BTreeMap<&'static str, u64>,
    columns: Columns,
}

impl Visitor for ScanVisitor<'_> {
    fn header(&mut self, name: &Cell) -> Option<String> {
        self.cell(name)
    }

    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let found = if cell.column.is_empty() {
            rampart_pii::scan(cell.value, None, self.threshold)
        } else {
            scan_cell(cell.value, cell.column, self.threshold)
        };
        if !cell.column.is_empty() {
            self.columns.observe(cell.column, cell.value, &found);
        }
        for m in found {
            *self.counts.entry(m.entity).or_default() += 1;
            if self.max == 0 || self.hits.len() < self.max {
                self.hits.push(Hit {
                    file: self.file.clone(),
                    line: cell.line,
                    record: cell.record,
                    column: cell.column.to_string(),
                    start: m.start + 1,
                    end: m.end,
                    entity: m.entity,
                    score: m.score,
                    masked: rampart_pii::columns::mask_example(
                        cell.value.get(m.start..m.end).unwrap_or(""),
                    ),
                });
            }
        }
        None
    }
}

/// Finds personal data scoring `threshold` or more in `paths`, listing
/// at most `max_matches` (0: all; every one is counted).
pub fn scan(
    paths: &[PathBuf],
    reading: &Reading,
    threshold: f32,
    max_matches: usize,
    watch: &dyn Watch,
) -> Result<Scan, Error> {
    let mut hits = Vec::new();
    let mut counts = BTreeMap::new();
    let mut files = Vec::new();
    for path in paths {
        let source = detect(path)?;
        let file = path.display().to_string();
        let mut v = ScanVisitor {
            file: file.as_str().into(),
            threshold,
            max: max_matches,
            hits: &mut hits,
            counts: &mut counts,
            columns: Columns::default(),
        };
        let summary = reading.process(&source, &mut v, watch, &format!("scanning {file}"))?;
        files.push(FileSummary {
            format: source.format.name(),
            records: summary.records,
            skipped: summary.skipped,
            problems: summary
                .problems
                .iter()
                .map(|p| format!("{file}:{}: {}", p.line, p.message))
                .collect(),
            pii_columns: v.columns.report(),
            file,
        });
    }
    Ok(Scan {
        files,
        counts,
        matches: hits,
        threshold,
    })
}

/// Which way [`mask`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Mask,
    /// Reverse `siv` tokens and `ff1` columns (with the key and policy
    /// the data was masked with); `hmac` pseudonyms cannot be reversed.
    Unmask,
}

/// What [`mask`] did.
#[derive(Debug)]
pub struct Masked {
    /// Values changed, by target (`entity:X`, `column:Y`, `tokens`) and
    /// action.
    pub tally: BTreeMap<(String, String), u64>,
    /// Columns left out of the output.
    pub dropped_columns: Vec<String>,
    /// Values that could not be transformed and were redacted instead
    /// (the first 20, and how many in all).
    pub failed: Vec<String>,
    pub failed_count: u64,
    pub records: u64,
    pub skipped: u64,
    pub warnings: Vec<String>,
    pub format: &'static str,
    /// The input was zstd-compressed: the output is written uncompressed.
    pub decompressed: bool,
}

impl Masked {
    /// What was transformed, by target and action, and where it went,
    /// for people.
    pub fn text(&self, output: &Path) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for ((target, action), n) in &self.tally {
            let _ = writeln!(out, "{target:<32} {action:<20} {n} values");
        }
        for c in &self.dropped_columns {
            let _ = writeln!(out, "column:{c:<25} drop");
        }
        let _ = writeln!(
            out,
            "{} records written to {} ({}, {} skipped)",
            self.records,
            output.display(),
            self.format,
            self.skipped
        );
        out
    }

    /// The attestation's details.
    pub fn details(&self, direction: Direction, threshold: f32) -> serde_json::Value {
        let transformed: Vec<serde_json::Value> = self
            .tally
            .iter()
            .map(|((target, action), n)| serde_json::json!({"target": target, "action": action, "values": n}))
            .collect();
        serde_json::json!({
            "passed": self.failed_count == 0,
            "direction": if direction == Direction::Unmask { "unmask" } else { "mask" },
            "transformed": transformed,
            "dropped_columns": self.dropped_columns,
            "records": self.records,
            "skipped": self.skipped,
            "failed_values": self.failed_count,
            "threshold": threshold,
        })
    }
}

fn action_name(a: &Action) -> String {
    match a {
        Action::Mask { keep } => format!("mask(keep {keep})"),
        Action::Generalise { to } => format!("generalise({to:?})").to_lowercase(),
        other => format!("{other:?}").to_lowercase(),
    }
}

struct MaskVisitor<'a> {
    policy: &'a Policy,
    keys: Option<&'a Keys>,
    unmask: bool,
    tally: BTreeMap<(String, String), u64>,
    failed: Vec<String>,
    failed_count: u64,
    /// Unmasking: values that could not be opened (listed, counted).
    refused: Vec<String>,
    refused_count: u64,
}

impl MaskVisitor<'_> {
    fn count(&mut self, target: String, action: &Action) {
        *self.tally.entry((target, action_name(action))).or_default() += 1;
    }

    fn fail(&mut self, cell: &Cell, why: String) {
        if self.unmask {
            // Unmasking never passes on what it could not open.
            if self.refused.len() < 20 {
                self.refused.push(format!(
                    "line {} column {:?}: {why}",
                    cell.line, cell.column
                ));
            }
            self.refused_count += 1;
            return;
        }
        self.failed_count += 1;
        if self.failed.len() < 20 {
            self.failed.push(format!(
                "line {} column {:?}: {why}; the value was redacted",
                cell.line, cell.column
            ));
        }
    }

    fn unmask(&mut self, cell: &Cell) -> Option<String> {
        let keys = self.keys?;
        let mut value = cell.value.to_string();
        let mut changed = false;
        if self.policy.columns.get(cell.column) == Some(&Action::Ff1) {
            match keys.ff1(cell.value, cell.column, true) {
                Ok(v) => {
                    value = v;
                    changed = true;
                    self.count(format!("column:{}", cell.column), &Action::Ff1);
                }
                Err(e) => self.fail(cell, e.0),
            }
        }
        if value.contains("siv:") {
            let re = siv_token_pattern()?;
            let (mut opened, mut bad) = (0u64, 0u64);
            let replaced = re.replace_all(&value, |c: &regex::Captures| {
                let token = c.get(0).map_or("", |m| m.as_str());
                match keys.siv_open(token) {
                    Some(v) => {
                        opened += 1;
                        v
                    }
                    None => {
                        bad += 1;
                        token.to_string()
                    }
                }
            });
            if bad > 0 {
                self.fail(
                    cell,
                    format!(
                        "{bad} siv: token(s) do not authenticate (another key, or an edited token)"
                    ),
                );
            }
            if opened > 0 {
                value = replaced.into_owned();
                changed = true;
                *self
                    .tally
                    .entry(("tokens".into(), "siv".into()))
                    .or_default() += opened;
            }
        }
        changed.then_some(value)
    }
}

fn siv_token_pattern() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"siv:[A-Za-z0-9_-]{22,}").ok())
        .as_ref()
}

impl Visitor for MaskVisitor<'_> {
    fn header(&mut self, name: &Cell) -> Option<String> {
        self.cell(name)
    }

    fn verdict(&self) -> Result<(), String> {
        if self.refused_count == 0 {
            return Ok(());
        }
        Err(format!(
            "{} values could not be unmasked, so nothing was written: {}{}; unmask with the key (and policy) the data was masked with",
            self.refused_count,
            self.refused.join("; "),
            if self.refused_count > self.refused.len() as u64 { "; ..." } else { "" }
        ))
    }

    fn keep_column(&self, column: &str) -> bool {
        self.unmask || self.policy.columns.get(column) != Some(&Action::Drop)
    }

    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if self.unmask {
            return self.unmask(cell);
        }
        if let Some(action) = self.policy.columns.get(cell.column) {
            let hint = rampart_pii::columns::name_hint(cell.column).unwrap_or("VALUE");
            if cell.value.is_empty() || *action == Action::Keep {
                return None;
            }
            return match apply(action, cell.value, hint, cell.column, self.keys) {
                Ok(v) => {
                    self.count(format!("column:{}", cell.column), action);
                    v
                }
                Err(e) => {
                    self.fail(cell, e.0);
                    Some(format!("<{hint}>"))
                }
            };
        }
        let found = if cell.column.is_empty() {
            rampart_pii::scan(cell.value, None, self.policy.threshold)
        } else {
            scan_cell(cell.value, cell.column, self.policy.threshold)
        };
        if found.is_empty() {
            return None;
        }
        let mut out = cell.value.to_string();
        let mut changed = false;
        // Disjoint spans, right to left, so that earlier offsets stay valid.
        for m in rampart_pii::disjoint(found).iter().rev() {
            let action = self.policy.entity_action(m.entity).clone();
            let Some(span) = cell.value.get(m.start..m.end) else {
                continue;
            };
            let new = match apply(&action, span, m.entity, cell.column, self.keys) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    self.fail(cell, e.0);
                    format!("<{}>", m.entity)
                }
            };
            if out.get(m.start..m.end).is_none() {
                self.fail(cell, "a match off a character boundary".into());
                return Some(format!("<{}>", m.entity));
            }
            out.replace_range(m.start..m.end, &new);
            changed = true;
            self.count(format!("entity:{}", m.entity), &action);
        }
        changed.then_some(out)
    }
}

/// Rewrites `source` through `visitor` into `output`, in the same format
/// (gzip-compressed when the input was), atomically: a failure never
/// leaves a half-written file that looks finished. Columns in
/// `must_have` must be in the file.
pub(crate) fn rewrite(
    source: &rampart_table::Source,
    reading: &Reading,
    visitor: &mut dyn Visitor,
    output: &Path,
    message: &str,
    must_have: &[(&str, &str)],
    watch: &dyn Watch,
) -> Result<rampart_table::Summary, Error> {
    let mut summary = None;
    let mut failure = None;
    let written = rampart_core::write_atomic_with(output, |w| {
        let o = reading.options(watch.read(message));
        let read = match source.compression {
            rampart_table::Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
                rampart_table::process(source, &o, visitor, Some(&mut gz))
                    .and_then(|s| gz.finish().map(|_| s).map_err(rampart_table::Error::Write))
            }
            _ => rampart_table::process(source, &o, visitor, Some(w)),
        };
        watch.done();
        let checked = read.map_err(Error::from).and_then(|s| {
            require_columns(&source.path, &s.columns, must_have.iter().copied())?;
            Ok(s)
        });
        match checked {
            Ok(s) => {
                summary = Some(s);
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                Err(std::io::Error::other("not written"))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written.map_err(|source| Error::Write {
        path: output.to_path_buf(),
        source,
    })?;
    summary.ok_or_else(|| Error::invalid("the rewrite produced no summary"))
}

/// Writes `input` to `output` with personal data masked as `policy`
/// says (or, [`Direction::Unmask`], the reversible tokens opened).
pub fn mask(
    input: &Path,
    output: &Path,
    policy: &Policy,
    keys: Option<&Keys>,
    direction: Direction,
    reading: &Reading,
    watch: &dyn Watch,
) -> Result<Masked, Error> {
    let unmask = direction == Direction::Unmask;
    if unmask && keys.is_none() {
        invalid!("unmask needs the key the data was masked with (--key)");
    }
    if !unmask && keys.is_none() && policy.needs_key() {
        invalid!("the policy uses hmac, siv or ff1, which need a key: --key FILE (make one with `rampart data pii keygen FILE`)");
    }
    let source = detect(input)?;
    let mut v = MaskVisitor {
        policy,
        keys,
        unmask,
        tally: BTreeMap::new(),
        failed: Vec::new(),
        failed_count: 0,
        refused: Vec::new(),
        refused_count: 0,
    };
    let verb = if unmask { "unmasking" } else { "masking" };
    let named: Vec<(&str, &str)> = policy
        .columns
        .keys()
        .map(|c| ("[columns] of the masking policy names", c.as_str()))
        .collect();
    let message = format!("{verb} {}", source.path.display());
    let summary = rewrite(&source, reading, &mut v, output, &message, &named, watch)?;
    let dropped_columns = if unmask {
        Vec::new()
    } else {
        policy
            .columns
            .iter()
            .filter(|(_, a)| **a == Action::Drop)
            .map(|(c, _)| c.clone())
            .collect()
    };
    Ok(Masked {
        tally: v.tally,
        dropped_columns,
        failed: v.failed,
        failed_count: v.failed_count,
        records: summary.records,
        skipped: summary.skipped,
        warnings: {
            let mut w = crate::reading::skipped_warnings(input, &summary);
            if source.compression == rampart_table::Compression::Zstd {
                w.push("the input was zstd-compressed; the output is written uncompressed".into());
            }
            w
        },
        format: source.format.name(),
        decompressed: source.compression == rampart_table::Compression::Zstd,
    })
}

/// The masking keys in a key file (64 hex digits).
pub fn read_key(path: &Path) -> Result<Keys, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Keys::parse(&text).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
}

/// Writes a new random 32-byte masking key (hex, mode 0600) to `path`,
/// which must not exist.
pub fn new_key(path: &Path) -> Result<(), Error> {
    use rand_core::RngCore;
    let mut key = [0u8; 32];
    let write = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    rand_core::OsRng
        .try_fill_bytes(&mut key)
        .map_err(|e| write(std::io::Error::other(format!("no randomness: {e}"))))?;
    rampart_core::write_new(path, format!("{}\n", hex::encode(key)).as_bytes(), 0o600)
        .map_err(write)
}

/// `value` with the personal data the recognisers find in it masked, or
/// None when they find none. Profiles and suggestions are shared and
/// committed, so they hold masks, never the values: of each match at most
/// a third of its characters, and never more than four, stay
/// ([`rampart_pii::columns::mask_example`]).
pub fn mask_personal(column: &str, value: &str, threshold: f32) -> Option<String> {
    let found = rampart_pii::disjoint(scan_cell(value, column, threshold));
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for m in &found {
        let span = value.get(m.start..m.end)?;
        out.push_str(value.get(at..m.start)?);
        out.push_str(&rampart_pii::columns::mask_example(span));
        at = m.end;
    }
    out.push_str(value.get(at..)?);
    Some(out)
}

/// Writes a value for people: masked when its column is named like
/// personal data or holds it, else with control characters escaped (a
/// stray `\r` cannot garble a terminal), at most 80 characters.
pub fn shown_value(column: &str, value: &str, threshold: f32) -> String {
    if rampart_pii::columns::name_hint(column).is_some()
        || !scan_cell(value, column, threshold).is_empty()
    {
        rampart_pii::columns::mask_example(value)
    } else {
        let mut out = String::new();
        for c in value.chars().take(80) {
            if c.is_control() {
                out.extend(c.escape_debug());
            } else {
                out.push(c);
            }
        }
        out
    }
}
