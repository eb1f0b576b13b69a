//! `rampart data pii scan | mask | unmask | keygen`.

use super::{settings, warn, MaskArgs, ScanArgs};
use crate::common::{print_json, record, record_details, verdict};
use anyhow::{bail, Context, Result};
use rampart_dataset::pii::{Direction, Scan};
use rampart_gate::{Context as GateContext, Gate, Report};
use std::path::Path;
use std::process::ExitCode;

pub(super) fn scan(a: &ScanArgs) -> Result<ExitCode> {
    let s = settings(&a.masking, &a.common)?;
    let watch = crate::progress::Watch::default();
    let gate = rampart_gate::PiiScan {
        inputs: a.paths.clone(),
        threshold: s.masking.threshold,
        reading: s.reading,
        max_matches: a.max_matches,
    };
    let ctx = GateContext {
        policy: &rampart_core::Policy::default(),
        progress: &rampart_core::NoProgress,
        watch: &watch,
    };
    let outcome = gate.run(&ctx)?;
    let Report::Pii(scan) = &outcome.report else {
        bail!("the PII gate gave no scan");
    };
    if a.json {
        // Serialized straight from the structs, streamed: listing every
        // match of a big file must not build a JSON tree in memory first.
        print_json(scan)?;
    } else {
        print_scan(scan);
    }
    record(a.common.ledger(), &outcome, &s.policy_sha256)?;
    Ok(verdict(scan.passed()))
}

fn print_scan(scan: &Scan) {
    for h in &scan.matches {
        let column = if h.column.is_empty() {
            String::new()
        } else {
            format!(" [{}]", h.column)
        };
        println!(
            "{}:{}:{}{column}  {:<16} {:.2}  {}",
            h.file, h.line, h.start, h.entity, h.score, h.masked
        );
    }
    for f in &scan.files {
        if !f.pii_columns.is_empty() {
            println!(
                "\n{} ({}, {} records): columns with personal data",
                f.file, f.format, f.records
            );
            for c in &f.pii_columns {
                println!(
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
        for p in &f.problems {
            eprintln!("warning: {p} (skipped)");
        }
        if f.skipped as usize > f.problems.len() {
            eprintln!("warning: {}: {} records skipped in all", f.file, f.skipped);
        }
    }
    let summary: Vec<String> = scan
        .counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "{} matches{}{}",
        scan.total(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(": {}", summary.join(", "))
        },
        rampart_dataset::skipped_note(scan.files.iter().map(|f| f.skipped).sum())
    );
}

pub(super) fn mask(a: &MaskArgs, unmask: bool) -> Result<ExitCode> {
    let started = rampart_evidence::Started::now();
    let s = settings(&a.masking, &a.common)?;
    crate::output::check(&a.output, std::slice::from_ref(&a.input))?;
    let keys = match &a.key {
        Some(k) => Some(
            rampart_pii::transform::Keys::parse(
                &std::fs::read_to_string(k)
                    .with_context(|| format!("cannot read the key {}", k.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", k.display()))?,
        ),
        None => None,
    };
    let direction = if unmask {
        Direction::Unmask
    } else {
        Direction::Mask
    };
    let watch = crate::progress::Watch::default();
    let m = rampart_dataset::pii::mask(
        &a.input,
        &a.output,
        &s.masking,
        keys.as_ref(),
        direction,
        &s.reading,
        &watch,
    )?;
    for ((target, action), n) in &m.tally {
        println!("{target:<32} {action:<20} {n} values");
    }
    for c in &m.dropped_columns {
        println!("column:{c:<25} drop");
    }
    for f in &m.failed {
        eprintln!("warning: {f}");
    }
    warn(&m.warnings);
    if m.decompressed {
        eprintln!("note: the input was zstd-compressed; the output is written uncompressed");
    }
    println!(
        "{} records written to {} ({}, {} skipped)",
        m.records,
        a.output.display(),
        m.format,
        m.skipped
    );
    record_details(
        a.common.ledger(),
        if unmask { "pii-unmask" } else { "pii-mask" },
        &[a.input.clone(), a.output.clone()],
        m.failed_count == 0,
        &s.policy_sha256,
        started,
        m.details(direction, s.masking.threshold),
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keygen(path: &Path) -> Result<ExitCode> {
    let mut key = [0u8; 32];
    getrandom(&mut key)?;
    rampart_core::write_new(path, format!("{}\n", hex::encode(key)).as_bytes(), 0o600)?;
    println!(
        "wrote a new masking key to {} (keep it secret: it links pseudonyms and opens tokens)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn getrandom(buf: &mut [u8]) -> Result<()> {
    use rand_core::RngCore;
    rand_core::OsRng
        .try_fill_bytes(buf)
        .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))
}
