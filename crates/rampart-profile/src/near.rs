//! Near duplicates: rows that share most of their values without being
//! equal (one value edited, a word added). Each row becomes a set of
//! shingles (`column=value` and `column:word` for every word of a value,
//! the label left out); the Jaccard similarity of two rows' sets is
//! estimated by MinHash ([`SIGNATURE`] 32-bit minima of seeded hashes),
//! and candidate pairs come from locality-sensitive hashing (the
//! signature cut into [`BANDS`] bands: rows agreeing on a whole band
//! share a bucket). Pairs whose estimated similarity reaches the
//! threshold are joined into groups.
//!
//! Memory per row: the signature (128 bytes) and up to one bucket entry
//! per band. Rows that are exact duplicates of an earlier row are left to the
//! exact check and not counted again here.

use crate::duplicates::{Finding, FindingKind, Row};
use std::collections::{BTreeMap, HashMap};

/// MinHash values per row: the similarity estimate's standard error is
/// about 0.07 at 0.8.
pub const SIGNATURE: usize = 32;

/// LSH bands of [`SIGNATURE`]` / BANDS` values each: with 8 bands of 4, a
/// pair of similarity 0.8 becomes a candidate with probability 0.99, one
/// of 0.5 with probability 0.40 (and is then dismissed by its estimate).
pub const BANDS: usize = 8;

const ROWS_PER_BAND: usize = SIGNATURE / BANDS;

/// Rows kept in one group's list; a longer group marks the findings
/// truncated.
pub const MAX_GROUP_ROWS: usize = 10_000;

type Signature = [u32; SIGNATURE];

fn signature(row: &Row, label: Option<&str>) -> Option<Signature> {
    let mut sig = [u32::MAX; SIGNATURE];
    let mut any = false;
    let mut add = |shingle: &[u8]| {
        any = true;
        for (k, slot) in sig.iter_mut().enumerate() {
            let h = xxhash_rust::xxh3::xxh3_64_with_seed(shingle, k as u64) as u32;
            *slot = (*slot).min(h);
        }
    };
    let mut buf = Vec::new();
    for (column, value) in row.values() {
        if Some(column) == label || value.is_empty() {
            continue;
        }
        // `column=value` for the whole value, `column:word` for its words.
        for (i, w) in crate::duplicates::words(value).take(257).enumerate() {
            buf.clear();
            buf.extend_from_slice(column.as_bytes());
            buf.push(if i == 0 { b'=' } else { b':' });
            buf.extend_from_slice(w.as_bytes());
            add(&buf);
        }
    }
    any.then_some(sig)
}

/// The estimated Jaccard similarity of two rows.
fn similarity(a: &Signature, b: &Signature) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / SIGNATURE as f64
}

fn band_key(sig: &Signature, band: usize) -> u64 {
    let mut bytes = [0u8; 4 * ROWS_PER_BAND];
    let values = sig.iter().skip(band * ROWS_PER_BAND).take(ROWS_PER_BAND);
    for (chunk, v) in bytes.chunks_exact_mut(4).zip(values) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64_with_seed(&bytes, band as u64)
}

/// Finds near duplicates among rows, and rows near a reference's.
pub struct NearDuplicates {
    label: Option<String>,
    threshold: f64,
    /// Signatures and (record, line) of the rows seen.
    rows: Vec<(Signature, u64, u64)>,
    /// Per band, bucket key to the first row (index into `rows`).
    buckets: Vec<HashMap<u64, u32>>,
    /// Union-find parents over `rows`.
    parent: Vec<u32>,
    reference: Vec<Signature>,
    reference_buckets: Vec<HashMap<u64, u32>>,
    /// Rows near a reference row: (record, line).
    leaks: Vec<(u64, u64)>,
    /// Whether a group had more rows than it lists.
    pub truncated: bool,
}

impl NearDuplicates {
    pub fn new(label: Option<String>, threshold: f64) -> NearDuplicates {
        NearDuplicates {
            label,
            threshold,
            rows: Vec::new(),
            buckets: vec![HashMap::new(); BANDS],
            parent: Vec::new(),
            reference: Vec::new(),
            reference_buckets: vec![HashMap::new(); BANDS],
            leaks: Vec::new(),
            truncated: false,
        }
    }

    /// A row of the reference (training) set, for near leaks.
    pub fn add_reference(&mut self, row: &Row) {
        let Some(sig) = signature(row, self.label.as_deref()) else {
            return;
        };
        let i = self.reference.len() as u32;
        for (band, buckets) in self.reference_buckets.iter_mut().enumerate() {
            buckets.entry(band_key(&sig, band)).or_insert(i);
        }
        self.reference.push(sig);
    }

    fn root(&mut self, mut i: u32) -> u32 {
        while let Some(&p) = self.parent.get(i as usize) {
            if p == i {
                break;
            }
            let grand = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(i as usize) {
                *slot = grand;
            }
            i = p;
        }
        i
    }

    /// A row; `seen` says what the exact check found: whether it repeats
    /// an earlier row, and whether it is in the reference. A row is not
    /// reported again as near what it equals.
    pub fn add(&mut self, row: &Row, seen: crate::duplicates::Seen) {
        let Some(sig) = signature(row, self.label.as_deref()) else {
            return;
        };
        let near_reference = !seen.leak
            && (0..BANDS)
                .filter_map(|band| self.reference_buckets.get(band)?.get(&band_key(&sig, band)))
                .any(|&r| {
                    self.reference
                        .get(r as usize)
                        .is_some_and(|s| similarity(s, &sig) >= self.threshold)
                });
        if near_reference {
            self.leaks.push((row.record, row.line));
        }
        let i = self.rows.len() as u32;
        self.parent.push(i);
        let mut candidates = Vec::new();
        for (band, buckets) in self.buckets.iter_mut().enumerate() {
            match buckets.get(&band_key(&sig, band)) {
                Some(&j) => candidates.push(j),
                None => {
                    buckets.insert(band_key(&sig, band), i);
                }
            }
        }
        self.rows.push((sig, row.record, row.line));
        if seen.repeat {
            return;
        }
        for j in candidates {
            let near = self
                .rows
                .get(j as usize)
                .is_some_and(|(s, _, _)| similarity(s, &sig) >= self.threshold);
            if near {
                let (a, b) = (self.root(i), self.root(j));
                if let Some(p) = self.parent.get_mut(a.max(b) as usize) {
                    *p = a.min(b);
                }
            }
        }
    }

    /// `near-duplicate` findings (a group's first row stays, the others
    /// are to drop) and a `near-leak` finding.
    pub fn findings(&mut self) -> Vec<Finding> {
        let mut groups: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
        for i in 0..self.rows.len() as u32 {
            let r = self.root(i);
            if let Some(&(_, record, line)) = self.rows.get(i as usize) {
                let g = groups.entry(r).or_default();
                if g.len() < MAX_GROUP_ROWS {
                    g.push((record, line));
                } else {
                    self.truncated = true;
                }
            }
        }
        let mut out: Vec<Finding> = groups
            .into_values()
            .filter(|g| g.len() > 1)
            .map(|g| Finding {
                kind: FindingKind::NearDuplicate,
                rows: g.iter().take(20).map(|r| r.1).collect(),
                count: g.len() as u64,
                labels: Vec::new(),
                drop: g.iter().skip(1).map(|r| r.0).collect(),
                column: None,
                value: None,
                counts: BTreeMap::new(),
            })
            .collect();
        out.sort_by_key(|f| std::cmp::Reverse(f.count));
        if !self.leaks.is_empty() {
            out.push(Finding {
                kind: FindingKind::NearLeak,
                rows: self.leaks.iter().take(20).map(|r| r.1).collect(),
                count: self.leaks.len() as u64,
                labels: Vec::new(),
                drop: self.leaks.iter().map(|r| r.0).collect(),
                column: None,
                value: None,
                counts: BTreeMap::new(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duplicates::Seen;

    fn row(i: u64, values: &[(&str, &str)]) -> Row {
        let mut r = Row::new(i + 1, i + 2);
        for (c, v) in values {
            r.set(c, v);
        }
        r
    }

    fn person(i: u64, city: &str, note: &str) -> Row {
        row(
            i,
            &[
                ("name", &format!("person {i}")),
                ("city", city),
                ("age", &(20 + i % 50).to_string()),
                ("note", note),
                ("zip", &format!("{:05}", i * 7919 % 100_000)),
                ("y", "1"),
            ],
        )
    }

    /// Eight words of row `i`'s own (from 100,000 made-up ones), and
    /// `last`.
    fn note(i: u64, last: &str) -> String {
        let words: Vec<String> = (0..8u64)
            .map(|j| {
                format!(
                    "w{}",
                    xxhash_rust::xxh3::xxh3_64(&[i, j].map(u64::to_le_bytes).concat()) % 100_000
                )
            })
            .collect();
        format!("{} {last}", words.join(" "))
    }

    #[test]
    fn an_edited_copy_is_near_and_distinct_rows_are_not() {
        let mut n = NearDuplicates::new(Some("y".into()), 0.7);
        let rows: Vec<Row> = (0..300)
            .map(|i| person(i, "lyon", &note(i, "things")))
            .collect();
        for r in &rows {
            n.add(r, Seen::default());
        }
        // Row 0 again with one word of its note changed, and a new label.
        let mut edited = person(0, "lyon", &note(0, "stuff"));
        edited.record = 301;
        edited.line = 302;
        edited.set("y", "0");
        n.add(&edited, Seen::default());
        let f = n.findings();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].kind.name(), f[0].drop.clone()),
            ("near-duplicate", vec![301])
        );
    }

    #[test]
    fn rows_near_the_reference_are_near_leaks() {
        let mut n = NearDuplicates::new(None, 0.7);
        for i in 0..100 {
            n.add_reference(&person(i, "paris", &note(i, "the shop")));
        }
        n.add(&person(5, "paris", &note(5, "the store")), Seen::default());
        n.add(
            &person(500, "nice", &note(500, "the shop")),
            Seen::default(),
        );
        let f = n.findings();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].kind.name(), f[0].drop.clone()),
            ("near-leak", vec![6])
        );
    }

    #[test]
    fn exact_repeats_are_left_to_the_exact_check() {
        let mut n = NearDuplicates::new(None, 0.7);
        n.add(&person(1, "lyon", "same"), Seen::default());
        let repeat = Seen {
            repeat: true,
            leak: false,
        };
        n.add(&person(1, "lyon", "same"), repeat);
        assert!(n.findings().is_empty());
    }
}
