//! `rampart data pii scan PATH...`: personal data and secrets in text,
//! CSV and JSON Lines files, read line by line (bounded memory), with
//! every match named by file, line and entity, values masked.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Personal data and secrets.
    #[command(subcommand)]
    Pii(PiiCommand),
}

#[derive(Subcommand, Debug)]
enum PiiCommand {
    /// Find personal data and secrets in text, CSV or JSON Lines files
    /// (gzip-compressed too), line by line. Exit 1 if anything at or above
    /// the score threshold is found.
    Scan {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Matches below this score (0 to 1) are not reported.
        #[arg(long, default_value_t = 0.5)]
        threshold: f32,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Most matches listed (all are counted); 0 lists every one.
        #[arg(long, default_value_t = 10_000)]
        max_matches: usize,
    },
}

/// Longest line read; longer lines are reported and skipped.
const MAX_LINE: usize = 4 << 20;

#[derive(Serialize)]
struct Hit {
    file: String,
    line: u64,
    column: usize,
    /// Byte offset in the line just past the match.
    end: usize,
    entity: &'static str,
    score: f32,
    /// The value with all but its last four characters masked.
    masked: String,
}

fn mask(v: &str) -> String {
    let n = v.chars().count();
    v.chars()
        .enumerate()
        .map(|(i, c)| {
            if i + 4 < n && !c.is_whitespace() && c != '-' {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// The file's lines, through gzip when its first bytes say so.
fn open(path: &PathBuf) -> Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut r = BufReader::new(f);
    let gzip = r
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(r)))
    } else {
        Box::new(r)
    })
}

pub fn run(a: &DataArgs) -> Result<ExitCode> {
    let DataCommand::Pii(PiiCommand::Scan {
        paths,
        threshold,
        json,
        max_matches,
    }) = &a.command;
    let mut hits = Vec::new();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut problems = Vec::new();
    for path in paths {
        let mut r = open(path)?;
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = (&mut r)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("{}: read error after line {line_no}", path.display()))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                problems.push(format!(
                    "{}:{line_no}: line over {MAX_LINE} bytes skipped",
                    path.display()
                ));
                // Skip the rest of the line.
                let mut rest = Vec::new();
                let _ = r.read_until(b'\n', &mut rest);
                continue;
            }
            let text = String::from_utf8_lossy(&buf);
            for m in rampart_pii::scan_text_above(&text, *threshold) {
                *counts.entry(m.entity).or_default() += 1;
                if *max_matches == 0 || hits.len() < *max_matches {
                    hits.push(Hit {
                        file: path.display().to_string(),
                        line: line_no,
                        column: m.start + 1,
                        end: m.end,
                        entity: m.entity,
                        score: m.score,
                        masked: mask(text.get(m.start..m.end).unwrap_or("")),
                    });
                }
            }
        }
    }
    if *json {
        let v = serde_json::json!({"counts": counts, "matches": hits, "problems": problems});
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for h in &hits {
            println!(
                "{}:{}:{}  {:<16} {:.2}  {}",
                h.file, h.line, h.column, h.entity, h.score, h.masked
            );
        }
        for p in &problems {
            eprintln!("warning: {p}");
        }
        let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{} matches{}",
            counts.values().sum::<u64>(),
            if summary.is_empty() {
                String::new()
            } else {
                format!(": {}", summary.join(", "))
            }
        );
    }
    Ok(if counts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
